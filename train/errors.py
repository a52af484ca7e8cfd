"""The launcher's user-facing errors: a recipe problem, a run-folder refusal, a stop decided by a check.
It must never carry a traceback's worth of text: each message is one line naming the file and key."""

from __future__ import annotations

import difflib
from pathlib import Path


class RecipeError(ValueError):
    """A recipe problem, as ``FILE: KEY: what is wrong``."""

    def __init__(self, source: str | Path | None, key: str, message: str):
        self.source, self.key = str(source or "<recipe>"), key
        super().__init__(f"{self.source}: {key}: {message}")


class RecipeErrors(RecipeError):
    """Several recipe problems at once (``--check`` reports every one): one ``FILE: KEY: problem`` line each."""

    def __init__(self, errors: list[RecipeError]):
        self.errors = [e for err in errors for e in (err.errors if isinstance(err, RecipeErrors) else [err])]
        self.source, self.key = self.errors[0].source, self.errors[0].key
        ValueError.__init__(self, "\n".join(dict.fromkeys(str(e) for e in self.errors)))


class Problems:
    """Collects RecipeErrors so that one pass reports all of them: ``with problems.step(): ...`` records an
    error and goes on; ``raise_if_any()`` raises them together.

    >>> problems = Problems()
    >>> with problems.step():
    ...     raise RecipeError("r.yaml", "a", "bad")
    >>> with problems.step():
    ...     raise RecipeError("r.yaml", "b", "worse")
    >>> try:
    ...     problems.raise_if_any()
    ... except RecipeError as exc:
    ...     print(exc)
    r.yaml: a: bad
    r.yaml: b: worse
    """

    def __init__(self):
        self.errors: list[RecipeError] = []

    def step(self):
        problems = self

        class _Step:
            def __enter__(self):
                return self

            def __exit__(self, kind, exc, tb):
                if isinstance(exc, RecipeError):
                    problems.errors.append(exc)
                    return True
                return False

        return _Step()

    def raise_if_any(self) -> None:
        if self.errors:
            raise self.errors[0] if len(self.errors) == 1 else RecipeErrors(self.errors)


class RunStopped(RuntimeError):
    """The preflight or the watchdog stopped the run; the message says why and how to proceed anyway."""


def closest(word: str, options) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``options`` to a misspelled ``word``, else ``""``.

    >>> closest("learning_rat", ["learning_rate", "seed"])
    " (did you mean 'learning_rate'?)"
    """
    match = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""
