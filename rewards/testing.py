"""Contract checks for any reward function (ours or a user's): adversarial inputs and ``check_reward``.
It must never hide a failure: every broken rule is reported with the input that broke it. Hypothesis is needed only for the strategies."""

from __future__ import annotations

import math
import pickle
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# Text that breaks naive rewards: unbalanced, nested and repeated tags, broken braces, control
# characters, odd unicode, huge input, and LaTeX that makes SymPy hang or overflow.
LATEX_BOMBS: tuple[str, ...] = (
    r"\boxed{9^{9^{9^{9^{9}}}}}",
    r"<answer>(x+1)^{100000}</answer>",
    r"\boxed{100000!}",
    r"<answer>1e999999999</answer>",
    r"\boxed{" + r"\sqrt{" * 200 + "2" + "}" * 201,
    r"\boxed{\frac{1}{0}}",
)
ADVERSARIAL: tuple[str, ...] = (
    "",
    " \n\t ",
    "<think>",
    "</answer>",
    "<think>a</think><answer>4</answer>",
    "<think>\nadd\n</think>\n<answer>\n4\n</answer>\n",
    "<think><think>a</think></think><answer>4</answer>",
    "<answer>4</answer><answer>5</answer>",
    "<think>a</think><answer>4</answer> trailing text",
    "<answer></answer>",
    "<answer><answer>4</answer>",
    "</think><think></answer><answer>",
    r"\boxed{",
    r"\boxed{\boxed{1}",
    "}}}{{{",
    r"$\frac{1}{2}$ and \boxed{\frac{1}{2}}",
    "(1) pick up cup (2) open door",
    "a b a b a b a b",
    "Step 1: add\nStep 2: carry\nFinally, 46",
    "\x00\x01\x1b[31m\x7f\u200b\ufeff",
    "\ud800 lone surrogate",
    "مرحبا 你好 \U0001f4a5" * 20,
    "nan inf -inf 1e309 -0",
    "x" * 100_000,
    "word " * 20_000,
    *LATEX_BOMBS,
)
GOLDS: tuple[Any, ...] = ("4", "", None, "46", "(1) pick up cup (2) open door", 4, "-1")


class RewardContractError(AssertionError):
    """A reward function broke the reward contract; the message lists every broken rule."""


@dataclass
class CheckReport:
    """What ``check_reward`` ran: the reward's name, how many calls, the slowest call, and any problems."""

    name: str
    calls: int = 0
    slowest_s: float = 0.0
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        head = f"reward {self.name!r}: {self.calls} calls, slowest {self.slowest_s:.2f}s"
        if not self.problems:
            return head + ", contract holds"
        return head + f", {len(self.problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in self.problems)


def check_reward(
    fn: Callable[..., Any],
    *,
    completions: Sequence[str] | None = None,
    columns: dict[str, Any] | None = None,
    time_limit: float = 60.0,
    examples: int = 0,
) -> CheckReport:
    """Check ``fn(completions, **kwargs)`` against the reward contract and return a ``CheckReport``;
    raise ``RewardContractError`` listing every problem found.

    Rules: it has a readable ``__name__``; it takes the batch as ``completions=`` (TRL) and positionally
    (ms-swift); it returns one finite float (or ``None``) per completion,
    for string and conversational completions alike and for an empty batch; it never raises; it gives
    the same values twice, for both completion forms, and after a pickle round trip; it ignores unknown
    keyword arguments; every call returns within ``time_limit`` seconds from a worker thread.

    ``completions`` defaults to ``ADVERSARIAL``; ``columns`` are extra dataset columns (a per-sample
    list, or one value for all); by default a ``solution`` column, two prompt groups and
    ``completion_ids`` are passed. ``examples > 0`` also runs that many Hypothesis-generated batches
    (needs ``hypothesis``), shrinking the first failure to a minimal input.

    >>> def shouty(completions, **kwargs):
    ...     return [float(c.isupper()) for c in completions]
    >>> check_reward(shouty)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    rewards.testing.RewardContractError: reward 'shouty': ...
    """
    report = CheckReport(name=str(getattr(fn, "__name__", type(fn).__name__)))
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str) or not name.isidentifier():
        report.problems.append(f"__name__ is {name!r}; TRL logs rewards/<__name__>/mean, so give it a readable name")
    texts = list(ADVERSARIAL if completions is None else completions)
    kwargs = _default_columns(texts) | _broadcast(columns or {}, len(texts))
    _check_batch(fn, texts, kwargs, report, time_limit, reference=True)
    if not report.problems and examples > 0:
        _check_examples(fn, report, time_limit, examples, columns or {})
    if report.problems:
        raise RewardContractError(str(report))
    return report


def _default_columns(texts: list[str]) -> dict[str, Any]:
    n = len(texts)
    return {
        "solution": [GOLDS[i % len(GOLDS)] for i in range(n)],
        "prompts": [f"prompt {i % 2}" for i in range(n)],
        "completion_ids": [list(range(len(t) // 4)) for t in texts],
        "trainer_state": None,
        "log_extra": lambda *args, **kwargs: None,
        "log_metric": lambda *args, **kwargs: None,
        "an_unknown_column": list(range(n)),
    }


def _broadcast(columns: dict[str, Any], n: int) -> dict[str, Any]:
    return {k: v if isinstance(v, (list, tuple)) and len(v) == n else [v] * n for k, v in columns.items()}


def _conversational(texts: Sequence[str]) -> list[list[dict[str, str]]]:
    return [[{"role": "assistant", "content": t}] for t in texts]


def _check_batch(fn, texts, kwargs, report: CheckReport, time_limit: float, reference: bool) -> None:
    """Run every per-batch rule; append what breaks to ``report.problems``."""
    plain = _call(fn, texts, kwargs, report, time_limit, "string completions (by keyword, as TRL passes them)")
    if plain is None:
        return
    again = _call(fn, texts, kwargs, report, time_limit, "the same call again (positional, as ms-swift passes them)",
                  positional=True)
    if again is not None and not _same(plain, again):
        report.problems.append(f"not deterministic: two identical calls gave {_diff(plain, again, texts)}")
    chat = _call(fn, _conversational(texts), kwargs, report, time_limit, "conversational completions")
    if chat is not None and not _same(plain, chat):
        report.problems.append(f"string and conversational forms of the same text score differently: {_diff(plain, chat, texts)}")
    if not reference:
        return
    _call(fn, [], {k: [] if isinstance(v, list) else v for k, v in kwargs.items()}, report, time_limit, "an empty batch")
    try:
        clone = pickle.loads(pickle.dumps(fn))
    except Exception as exc:  # any pickling failure is the finding itself
        report.problems.append(f"not picklable (needed to reach worker processes): {type(exc).__name__}: {exc}")
        return
    unpickled = _call(clone, texts, kwargs, report, time_limit, "the unpickled copy")
    if unpickled is not None and not _same(plain, unpickled):
        report.problems.append(f"the unpickled copy scores differently: {_diff(plain, unpickled, texts)}")


def _call(fn, completions, kwargs, report: CheckReport, time_limit: float, what: str,
          positional: bool = False) -> list | None:
    """Call ``fn`` from a worker thread; return its values if they are valid, else record why and return None."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        start = time.perf_counter()
        try:
            if positional:
                outcome["values"] = fn(completions, **kwargs)
            else:
                outcome["values"] = fn(completions=completions, **kwargs)
        except BaseException:  # the checker reports every exception, including the odd SystemExit
            outcome["error"] = traceback.format_exc(limit=-3)
        outcome["seconds"] = time.perf_counter() - start

    worker = threading.Thread(target=work, daemon=True, name=f"check_reward:{report.name}")
    worker.start()
    worker.join(time_limit)
    report.calls += 1
    if worker.is_alive():
        report.problems.append(f"{what}: still running after {time_limit:g}s from a worker thread "
                               f"({len(completions)} completions)")
        return None
    report.slowest_s = max(report.slowest_s, outcome["seconds"])
    if "error" in outcome:
        report.problems.append(f"{what}: raised\n{_indent(outcome['error'])}\n    on input {_short(completions)}")
        return None
    values = outcome["values"]
    if not isinstance(values, (list, tuple)) or len(values) != len(completions):
        size = len(values) if hasattr(values, "__len__") else "no"
        report.problems.append(f"{what}: returned {type(values).__name__} with {size} values for "
                               f"{len(completions)} completions (need a list, one value each)")
        return None
    bad = [(i, v) for i, v in enumerate(values) if not _valid(v)]
    if bad:
        i, v = bad[0]
        report.problems.append(f"{what}: {len(bad)} value(s) are not finite floats or None, first {v!r} "
                               f"for completion {_short(completions[i])}")
        return None
    return list(values)


def _valid(value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(x == y or (x is None and y is None) for x, y in zip(a, b, strict=True))


def _diff(a: list, b: list, texts: Sequence[Any]) -> str:
    i = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
    return f"{a[i]!r} vs {b[i]!r} for completion {_short(texts[i])}"


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines())


def _check_examples(fn, report: CheckReport, time_limit: float, examples: int, columns: dict[str, Any]) -> None:
    """Run ``examples`` Hypothesis batches through the per-batch rules; report the shrunk first failure."""
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(batches(conversational=False))
    def run(batch):
        texts, kwargs = batch
        trial = CheckReport(name=report.name)
        _check_batch(fn, texts, kwargs | _broadcast(columns, len(texts)), trial, time_limit, reference=False)
        report.calls += trial.calls
        report.slowest_s = max(report.slowest_s, trial.slowest_s)
        if trial.problems:
            raise RewardContractError("\n".join(trial.problems))

    try:
        run()
    except RewardContractError as exc:
        report.problems.append(f"on a generated batch: {exc}")


# ---- Hypothesis strategies --------------------------------------------------------------------

_FRAGMENTS = (
    "<think>", "</think>", "<answer>", "</answer>", "<latex>", "</latex>", "<think", "answer>",
    "\\boxed{", "\\fbox{", "{", "}", "\\frac{1}{2}", "$", "$$", "\\(", "\\)", "\n", " ", "\t",
    "4", "-1", "0.5", "46", "1,000", "(1) ", "(2) ", ";", ",", "Step 1:", "Finally,", "- ", "\x00", "é", "\U0001f4a5",
)


def texts(*, latex_bombs: bool = True, max_fragments: int = 30):
    """Adversarial completion texts: tag and brace soup, any unicode, control characters, empty and
    huge strings, the ``ADVERSARIAL`` corpus and (unless ``latex_bombs=False``) LaTeX that makes SymPy hang.

    >>> from hypothesis import find
    >>> find(texts(), lambda t: "<think>" in t)
    '<think>'
    """
    from hypothesis import strategies as st

    soup = st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=4)), max_size=max_fragments).map("".join)
    corpus = [t for t in ADVERSARIAL if latex_bombs or t not in LATEX_BOMBS]
    return st.one_of(
        soup,
        st.text(max_size=60),
        st.text(st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]), max_size=20),
        st.sampled_from(corpus),
        st.integers(1_000, 20_000).map(lambda n: "ab " * n),
    )


def completions(*, conversational: bool | None = None, malformed: bool = False, latex_bombs: bool = True):
    """One completion: a string or a conversation whose last assistant message holds the text
    (``conversational`` forces one form). ``malformed=True`` adds shapes trainers should never send
    (None, numbers, messages without content, content as a list of parts) for rewards that promise
    never to raise on anything."""
    from hypothesis import strategies as st

    text = texts(latex_bombs=latex_bombs)
    chat = st.builds(
        lambda t, before: [*before, {"role": "assistant", "content": t}],
        text,
        st.lists(st.fixed_dictionaries({"role": st.sampled_from(["system", "user"]), "content": st.text(max_size=10)}),
                 max_size=2),
    )
    options = {True: [chat], False: [text], None: [text, chat]}[conversational]
    if malformed:
        options += [
            st.none(), st.integers(), st.just([]), st.just([{"role": "assistant"}]),
            text.map(lambda t: [{"role": "assistant", "content": [{"type": "text", "text": t}, {"type": "image"}]}]),
        ]
    return st.one_of(*options)


def golds():
    """Gold answers that keep a math check cheap: small integers (as text or numbers), empty and missing."""
    from hypothesis import strategies as st

    return st.one_of(st.integers(-50, 50).map(str), st.integers(-50, 50), st.just(""), st.none())


def batches(*, min_size: int = 1, max_size: int = 8, gold=None, **completion_options):
    """``(completions, kwargs)`` as a trainer passes them: a ``solution`` column (``gold`` strategy,
    default ``golds()``), ``prompts`` forming one to three groups, sometimes ``completion_ids``, and
    trainer extras. ``completion_options`` go to ``completions``.

    >>> from hypothesis import find
    >>> completions_, kwargs = find(batches(), lambda b: len(b[0]) == 2)
    >>> len(kwargs["solution"]) == len(kwargs["prompts"]) == 2
    True
    """
    from hypothesis import strategies as st

    sample = st.tuples(completions(**completion_options), gold if gold is not None else golds(),
                       st.integers(0, 2), st.integers(0, 300))

    def build(drawn):
        rows, with_ids = drawn
        kwargs: dict[str, Any] = {
            "solution": [row[1] for row in rows],
            "prompts": [f"prompt {row[2]}" for row in rows],
            "trainer_state": None,
        }
        if with_ids:
            kwargs["completion_ids"] = [list(range(row[3])) for row in rows]
        return [row[0] for row in rows], kwargs

    return st.tuples(st.lists(sample, min_size=min_size, max_size=max_size), st.booleans()).map(build)
