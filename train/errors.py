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


class RunStopped(RuntimeError):
    """The preflight or the watchdog stopped the run; the message says why and how to proceed anyway."""


def closest(word: str, options) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``options`` to a misspelled ``word``, else ``""``.

    >>> closest("learning_rat", ["learning_rate", "seed"])
    " (did you mean 'learning_rate'?)"
    """
    match = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""
