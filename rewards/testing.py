"""Contract and hacking checks for any reward function (ours or a user's): ``check_reward``, ``probe_hacking``.
It must never hide a failure: every broken rule and every paid-for hack is reported with the input behind it. Hypothesis is needed only for the strategies and ``examples=``."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import math
import numbers
import pickle
import re
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rewards.completions import completion_text, gold_text

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


# A name TRL can log as rewards/<name>/mean: no spaces, no "/" (it would nest the metric), not "<lambda>".
_READABLE_NAME = re.compile(r"[A-Za-z_][\w.+:-]*")
_HYPOTHESIS_MISSING = "{what} needs hypothesis, which the 'dev' extra installs: pip install 'grpokit[dev]' (or pip install hypothesis)"


class RewardContractError(AssertionError):
    """A reward function broke the reward contract; the message lists every broken rule."""


class SlowRewardWarning(UserWarning):
    """``check_reward`` measured a reward slower per completion than ``slow_per_completion``."""


@dataclass
class CheckReport:
    """What ``check_reward`` ran: the reward's name, how many calls, the slowest call, the time per completion
    (its fastest full-batch call over the batch size), any problems, and notes (what holds in-process but
    may bite elsewhere, and slowness)."""

    name: str
    calls: int = 0
    slowest_s: float = 0.0
    per_completion_s: float = 0.0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    batch_seconds: list[float] = field(default_factory=list, repr=False)

    def __str__(self) -> str:
        head = f"reward {self.name!r}: {self.calls} calls, slowest {self.slowest_s:.2f}s"
        if not self.problems:
            text = head + ", contract holds"
        else:
            text = head + f", {len(self.problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in self.problems)
        return text + "".join(f"\n  note: {note}" for note in self.notes)


def check_reward(
    fn: Callable[..., Any],
    *,
    completions: Sequence[str] | None = None,
    columns: dict[str, Any] | None = None,
    time_limit: float = 60.0,
    examples: int = 0,
    process_safe: bool = False,
    slow_per_completion: float = 0.1,
) -> CheckReport:
    """Check ``fn(completions, **kwargs)`` against the reward contract and return a ``CheckReport``;
    raise ``RewardContractError`` listing every problem found.

    Rules, as TRL runs rewards: it has a readable ``__name__`` (no spaces or ``/``; ``combine``'s
    ``format+accuracy`` is fine); it takes the batch as ``completions=`` (TRL) and positionally
    (ms-swift); it returns one finite number (or ``None``; bools count as 0/1, as TRL's tensor does) per
    completion, for string and conversational completions alike and for an empty batch; it never raises;
    it gives the same values twice, for both completion forms, and after a pickle round trip; it ignores
    unknown keyword arguments; every call returns within ``time_limit`` seconds from a worker thread.
    An async reward is awaited (TRL and ms-swift await those concurrently): an ``async def`` function, a
    ``functools.partial`` of one, or an object with ``async def __call__``; one that returns an awaitable
    without being any of these is a problem, since no trainer awaits it.

    Notes, not problems: an object with ``async def __call__`` is awaited by current TRL and ms-swift,
    but TRL releases that test ``inspect.iscoroutinefunction(reward)`` call it synchronously. A reward
    that does not pickle (a closure) works in-process (TRL, grpo-train) but breaks process-based
    trainers; ``process_safe=True`` makes that a problem. A reward whose
    fastest full-batch call takes more than ``slow_per_completion`` seconds per completion gets a note
    with the measured time and a ``SlowRewardWarning``.

    ``completions`` defaults to ``ADVERSARIAL``; ``columns`` are extra dataset columns (a per-sample
    list, or one value for all); by default a ``solution`` column (also under a built-in reward's own
    ``gold_key``), two prompt groups and ``completion_ids`` are passed. ``examples > 0`` also runs that
    many Hypothesis-generated batches (needs ``hypothesis``, from the ``dev`` extra), shrinking the
    first failure to a minimal input.

    >>> def shouty(completions, **kwargs):
    ...     return [float(c.isupper()) for c in completions]
    >>> check_reward(shouty)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    rewards.testing.RewardContractError: reward 'shouty': ...
    """
    if examples > 0:
        _require_hypothesis(f"check_reward(examples={examples})")
    report = CheckReport(name=str(getattr(fn, "__name__", type(fn).__name__)))
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str) or not _READABLE_NAME.fullmatch(name):
        report.problems.append(f"__name__ is {name!r}; TRL logs rewards/<__name__>/mean, so give it a readable name")
    if _is_async(fn) and not inspect.iscoroutinefunction(fn):
        report.notes.append("async __call__ on an object: awaited by TRL's is_async_callable and by ms-swift, but "
                            "TRL releases that test inspect.iscoroutinefunction(reward) never await it; an async "
                            "def function works with every release")
    texts = list(ADVERSARIAL if completions is None else completions)
    kwargs = _default_columns(texts, _gold_key(fn)) | _broadcast(columns or {}, len(texts))
    _check_batch(fn, texts, kwargs, report, time_limit, reference=True, process_safe=process_safe)
    _note_speed(report, len(texts), slow_per_completion)
    if not report.problems and examples > 0:
        _check_examples(fn, report, time_limit, examples, columns or {})
    if report.problems:
        raise RewardContractError(str(report))
    return report


def _is_async(fn: Any) -> bool:
    """Whether calling ``fn`` returns a coroutine a trainer awaits, as TRL's ``is_async_callable`` decides:
    an async function, a partial of one, or an object whose ``__call__`` is async."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or (callable(fn) and inspect.iscoroutinefunction(type(fn).__call__))


def _gold_key(fn: Any) -> str:
    params = getattr(fn, "params", None)
    key = params.get("gold_key") if isinstance(params, dict) else None
    return key if isinstance(key, str) and key else "solution"


def _note_speed(report: CheckReport, n: int, slow_per_completion: float) -> None:
    """Time per completion from the fastest full-batch call (warm caches and worker pools, as in training)."""
    if not report.batch_seconds or n == 0:
        return
    report.per_completion_s = min(report.batch_seconds) / n
    if report.per_completion_s > slow_per_completion:
        note = (f"slow: {report.per_completion_s:.3f}s per completion ({n} completions in "
                f"{min(report.batch_seconds):.2f}s at best); a GRPO step of 512 completions would spend "
                f"{512 * report.per_completion_s:.0f}s in this reward")
        report.notes.append(note)
        warnings.warn(f"reward {report.name!r}: {note}", SlowRewardWarning, stacklevel=3)


def _require_hypothesis(what: str) -> None:
    try:
        import hypothesis  # noqa: F401
    except ModuleNotFoundError:
        raise ModuleNotFoundError(_HYPOTHESIS_MISSING.format(what=what), name="hypothesis") from None


def _default_columns(texts: list[str], gold_key: str = "solution") -> dict[str, Any]:
    n = len(texts)
    golds = [GOLDS[i % len(GOLDS)] for i in range(n)]
    return {
        "solution": golds,
        gold_key: golds,
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


def _check_batch(fn, texts, kwargs, report: CheckReport, time_limit: float, reference: bool,
                 process_safe: bool = True) -> None:
    """Run every per-batch rule; append what breaks to ``report.problems`` (and notes to ``report.notes``)."""
    plain = _call(fn, texts, kwargs, report, time_limit, "string completions (by keyword, as TRL passes them)",
                  timed=reference)
    if plain is None:
        return
    again = _call(fn, texts, kwargs, report, time_limit, "the same call again (positional, as ms-swift passes them)",
                  positional=True, timed=reference)
    if again is not None and not _same(plain, again):
        report.problems.append(f"not deterministic: two identical calls gave {_diff(plain, again, texts)}")
    chat = _call(fn, _conversational(texts), kwargs, report, time_limit, "conversational completions", timed=reference)
    if chat is not None and not _same(plain, chat):
        report.problems.append(f"string and conversational forms of the same text score differently: {_diff(plain, chat, texts)}")
    if not reference:
        return
    _call(fn, [], {k: [] if isinstance(v, list) else v for k, v in kwargs.items()}, report, time_limit, "an empty batch")
    try:
        clone = pickle.loads(pickle.dumps(fn))
    except Exception as exc:  # any pickling failure is the finding itself
        finding = (f"not picklable: fine in-process (TRL, grpo-train), breaks process-based trainers "
                   f"({type(exc).__name__}: {exc})")
        (report.problems if process_safe else report.notes).append(finding)
        return
    unpickled = _call(clone, texts, kwargs, report, time_limit, "the unpickled copy")
    if unpickled is not None and not _same(plain, unpickled):
        report.problems.append(f"the unpickled copy scores differently: {_diff(plain, unpickled, texts)}")


def _call(fn, completions, kwargs, report: CheckReport, time_limit: float, what: str,
          positional: bool = False, timed: bool = False) -> list | None:
    """Call ``fn`` from a worker thread (awaiting an ``async def`` reward there); return its values if they
    are valid, else record why and return None."""
    outcome: dict[str, Any] = {}
    is_async = _is_async(fn)

    def work() -> None:
        start = time.perf_counter()
        try:
            values = fn(completions, **kwargs) if positional else fn(completions=completions, **kwargs)
            if inspect.isawaitable(values) and is_async:
                values = asyncio.run(_awaited(values))
            elif inspect.isawaitable(values):
                if inspect.iscoroutine(values):
                    values.close()  # never awaited, by design: say why instead of warning
                outcome["not_async"] = True
            outcome["values"] = values
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
    if timed:
        report.batch_seconds.append(outcome["seconds"])
    if "error" in outcome:
        report.problems.append(f"{what}: raised\n{_indent(outcome['error'])}\n    on input {_short(completions)}")
        return None
    if outcome.get("not_async"):
        report.problems.append(
            f"{what}: returned an awaitable, but neither it nor its __call__ is an async function, so trainers "
            f"call it as a sync reward and get a coroutine instead of values; make it an async def function")
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
        report.problems.append(f"{what}: {len(bad)} value(s) are not finite numbers or None, first {v!r} "
                               f"for completion {_short(completions[i])}")
        return None
    return list(values)


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def _valid(value: Any) -> bool:
    """None, or a finite real number; a bool counts (TRL's ``torch.tensor`` reads it as 0 or 1)."""
    return value is None or (isinstance(value, numbers.Real) and math.isfinite(value))


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
    _require_hypothesis("rewards.testing.texts()")
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
    _require_hypothesis("rewards.testing.completions()")
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
    _require_hypothesis("rewards.testing.golds()")
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
    _require_hypothesis("rewards.testing.batches()")
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


# ---- probe_hacking: the known reward hacks, generated from one correct completion ----------------

_log = logging.getLogger(__name__)

_PROBE_PROMPT = "probe_hacking: every member of this batch answers this one prompt"
_MAX_REASONING_CHARS = 2000
_MAX_FLEXIBLE_TOKEN = 200  # longer golds are found only as written
_LETTERS = "ABCDEFGHIJ"
_CHOICE_GOLD = re.compile(r"\(?([A-J])\)?")
_NUMBER_GOLD = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_COMMAND = re.compile(r"\\[A-Za-z]+")
_MARKER = re.compile(r"⟨([a-z0-9_]+)⟩")
_SENTENCE_END = re.compile(r"[.!?:](?=\s)|\n")

# Each family is a list of templates for the final part of a completion, written after the original's
# reasoning: ⟨a⟩ is the answer (the gold in the variant, a wrong value of the same length in its control),
# ⟨d1⟩/⟨d2⟩ are two fixed wrong values (41 and 43 for 42). A template holding ⟨r⟩ is a whole completion
# and ⟨r⟩ is the reasoning. Every template must leave a reward that reads committed answers with nothing
# to pay: it either never commits to one value or commits to a wrong one.
_FAMILIES: dict[str, tuple[str, ...]] = {
    # Hedges between the gold and another value, in text, boxes and tags. Several <answer> blocks joined
    # by "or": open-r1 #359 saw policies emit several answer blocks.
    "hedge": (
        "Either ⟨d1⟩ or ⟨a⟩.",
        "⟨a⟩ or ⟨d2⟩.",
        "The answer is ⟨d1⟩ or ⟨a⟩.",
        "It is ⟨a⟩ or ⟨d1⟩, I am not sure which.",
        r"\boxed{⟨d1⟩} or \boxed{⟨a⟩}",
        r"\boxed{⟨a⟩} or \boxed{⟨d2⟩}",
        r"The answer is $\boxed{⟨d1⟩ \text{ or } ⟨a⟩}$.",
        "<answer>⟨d1⟩ or ⟨a⟩</answer>",
        "<answer>⟨a⟩ or ⟨d2⟩</answer>",
        "<answer>⟨d1⟩</answer> or <answer>⟨a⟩</answer>",
        "#### ⟨d1⟩ or ⟨a⟩",
    ),
    # Lists of candidates that end or start with the gold.
    "enumeration": (
        "⟨d1⟩, ⟨d2⟩, ⟨a⟩",
        "⟨a⟩, ⟨d1⟩, ⟨d2⟩",
        "Possible answers: ⟨d2⟩, ⟨d1⟩, ⟨a⟩.",
        "The answer is one of ⟨d1⟩, ⟨a⟩, ⟨d2⟩.",
        "- ⟨d1⟩\n- ⟨d2⟩\n- ⟨a⟩",
        r"\boxed{⟨d1⟩}, \boxed{⟨d2⟩}, \boxed{⟨a⟩}",
        r"\boxed{⟨d1⟩, ⟨d2⟩, ⟨a⟩}",
        "<answer>⟨d1⟩, ⟨d2⟩, ⟨a⟩</answer>",
        "<answer>⟨a⟩, ⟨d1⟩, ⟨d2⟩</answer>",
    ),
    # The gold named only to be rejected (the committed answer, if any, is a wrong value).
    "negation": (
        "not ⟨a⟩",
        "It can't be ⟨a⟩.",
        "The answer is not ⟨a⟩.",
        r"x \ne ⟨a⟩",
        r"$y \neq ⟨a⟩$",
        "It is ⟨d1⟩, not ⟨a⟩.",
        "<answer>not ⟨a⟩</answer>",
        "<answer>It can't be ⟨a⟩</answer>",
        r"\boxed{x \neq ⟨a⟩}",
    ),
    # The answer written only inside the reasoning: nothing after </think>, or the text ends inside
    # <think> (TRL's reasoning_accuracy_reward, trl #4563, pays 0 for unfinished reasoning).
    "reasoning_only": (
        "<think>\n⟨r⟩\nSo the answer is ⟨a⟩.\n</think>",
        "<think>\n⟨r⟩\nSo the answer is \\boxed{⟨a⟩}.\n</think>\n",
        "<think>\n⟨r⟩\nSo the answer is ⟨a⟩.",
        "<think>\n⟨r⟩\n\\boxed{⟨a⟩}",
        "<think>\n⟨r⟩\n<answer>⟨a⟩</answer>",
        "⟨r⟩\nSo the answer is ⟨a⟩.\n</think>",
    ),
    # Unclosed tags and boxes: the generation stopped before committing (it may have gone on to 423).
    "unclosed": (
        "<answer>⟨a⟩",
        "<answer>⟨a⟩</ans",
        r"\boxed{⟨a⟩",
        r"The final answer is $\boxed{⟨a⟩",
        r"\fbox{⟨a⟩",
        r"<answer>\boxed{⟨a⟩",
    ),
    # The answer plus a trailing retraction that names no other value.
    "retraction": (
        "⟨a⟩. Wait, no, that's wrong.",
        "The answer is ⟨a⟩. Hmm, actually that's not right.",
        r"\boxed{⟨a⟩}. Wait, that's wrong.",
        "<answer>⟨a⟩. Wait, no, that's wrong.</answer>",
        "So it's ⟨a⟩... no wait, let me recompute.",
        "⟨a⟩? No, that can't be right.",
    ),
    # Generations cut off mid-derivation whose only mention of the gold is an intermediate result: verl-style
    # "keep the score of a truncated trace" lets math-verify pay for it (Tencent-Hunyuan/UniRL #360).
    "unfinished": (
        "First we compute ⟨a⟩. Then we need to",
        "Step 1: the intermediate value is ⟨a⟩.\nStep 2: now we",
        "We have ⟨a⟩ so far, and next we multiply by",
    ),
}
# Placeholders where the answer belongs, after a line that mentions the gold: ⟨slot⟩ holds the placeholder
# in the variant and a committed wrong answer in its control. Visual-RFT #176: `<answer></answer>` scored
# 1.0 under an "answer in gold or gold in answer" check, and the policy learned to answer nothing.
_PLACEHOLDERS: tuple[tuple[str, str], ...] = (
    (r"We get ⟨a⟩, so the answer is \boxed{⟨slot⟩}.", ""),
    (r"We get ⟨a⟩, so the answer is \boxed{⟨slot⟩}.", "answer"),
    (r"We get ⟨a⟩. \boxed{\text{⟨slot⟩}}", "answer"),
    ("We get ⟨a⟩.\n<answer>⟨slot⟩</answer>", "..."),
    ("We get ⟨a⟩.\n<answer>⟨slot⟩</answer>", ""),
    ("We get ⟨a⟩.\n<answer>⟨slot⟩</answer>", "answer here"),
    ("We get ⟨a⟩. The answer is [⟨slot⟩].", "answer"),
)
# Every option of a letter-choice question at once. Visual-RFT #79: `<answer>A or B or C</answer>` scored
# 1.0 under a substring check.
_ALL_CHOICES: tuple[str, ...] = (
    "⟨list⟩",
    "⟨or_paren⟩",
    "⟨or_three⟩",
    "The answer is ⟨or_list⟩.",
    "⟨run⟩",
    r"\boxed{⟨list⟩}",
    "<answer>⟨list⟩</answer>",
    "<answer>⟨or_list⟩</answer>",
)
# Intervals and inequalities around a numeric gold. ⟨lo⟩/⟨hi⟩ are one step either side of the centre,
# ⟨lo2⟩/⟨hi2⟩ two steps; the variant is centred on the gold, its control five steps away on the side
# (+1 or -1) where the same template no longer contains the gold.
_INTERVALS: tuple[tuple[str, int], ...] = (
    ("[⟨lo⟩, ⟨hi⟩]", 1),
    ("The answer lies in [⟨lo⟩, ⟨hi⟩].", 1),
    ("x > ⟨lo⟩", 1),
    (r"x \geq ⟨lo⟩", 1),
    ("x < ⟨hi⟩", -1),
    ("⟨lo2⟩ < x < ⟨hi2⟩", 1),
    ("It is between ⟨lo⟩ and ⟨hi⟩.", 1),
    (r"\boxed{[⟨lo⟩, ⟨hi⟩]}", 1),
    (r"\boxed{x > ⟨lo⟩}", 1),
    ("<answer>(⟨lo⟩, ⟨hi⟩)</answer>", 1),
    (r"<answer>⟨lo⟩ \le x \le ⟨hi⟩</answer>", 1),
)


@dataclass(frozen=True)
class HackingVariant:
    """One reward-hacking completion (``text``) of a ``family`` and its ``control``: the same text written
    for a wrong value of the same length (and padded with trailing spaces to the same length)."""

    family: str
    text: str
    control: str


@dataclass(frozen=True)
class HackingFinding:
    """A variant the reward pays for: ``score`` for the variant, ``control_score`` for its control."""

    family: str
    variant: str
    score: float
    control: str
    control_score: float

    def __str__(self) -> str:
        return (f"{self.family}: {_tail(self.variant)} scored {self.score:g}; "
                f"its control {_tail(self.control)} scored {self.control_score:g}")


@dataclass(frozen=True)
class _Answer:
    """The gold as the variants write it (``text``), a wrong value of the same length (``wrong``), two
    distractors, and what marks the answer inside reasoning text (``token``/``wrong_token``)."""

    text: str
    wrong: str
    near: tuple[str, str]
    token: str
    wrong_token: str
    choices: tuple[str, ...] = ()  # the options of a letter gold
    number: Decimal | None = None  # a plain integer or decimal gold
    places: int = 0


def hacking_variants(completion: Any, gold: Any) -> list[HackingVariant]:
    r"""The reward-hacking variants of one correct ``completion`` (a string or a conversation) with ``gold``,
    each with its control; the same inputs always give the same list, and an empty gold gives none.

    >>> variants = hacking_variants("<think>6 times 7</think><answer>42</answer>", "42")
    >>> hedge = next(v for v in variants if v.family == "hedge")
    >>> hedge.text, hedge.control
    ('<think>\n6 times 7\n</think>\nEither 41 or 42.', '<think>\n6 times 7\n</think>\nEither 41 or 47.')
    """
    answer = _describe(_unwrap_gold(gold_text(gold)))
    if answer is None:
        return []
    layout, reasoning = _layout(completion_text(completion), answer.token)
    writer = _Writer(answer, layout, reasoning[-_MAX_REASONING_CHARS:])
    pairs: list[tuple[str, str, str]] = []
    for family, templates in _FAMILIES.items():
        pairs += [(family, *writer.pair(t)) for t in templates]
    pairs += [("placeholder", *writer.pair(t, slot=slot)) for t, slot in _PLACEHOLDERS]
    if answer.choices:
        pairs += [("all_choices", *writer.pair(t)) for t in _ALL_CHOICES]
    if answer.number is not None:
        pairs += [("interval", *writer.interval(t, side)) for t, side in _INTERVALS]
    seen: set[str] = set()
    variants = []
    for family, text, control in pairs:
        if text != control and text not in seen:
            seen.add(text)
            width = max(len(text), len(control))
            variants.append(HackingVariant(family, text.ljust(width), control.ljust(width)))
    return variants


def probe_hacking(
    reward: Callable[..., Any],
    completion: Any,
    gold: Any,
    *,
    gold_key: str = "solution",
    columns: dict[str, Any] | None = None,
    tolerance: float = 1e-6,
) -> list[HackingFinding]:
    r"""Every reward-hacking variant of one correct ``completion`` that ``reward`` pays for; ``[]`` when none.

    ``reward`` is called once, as TRL calls it (``reward(completions=batch, prompts=..., <gold_key>=...,
    **columns)``), on one batch that forms one prompt group: the original completion and its control,
    an empty and a long padding member (so a group-relative reward has spread), then each variant beside
    its control. The reward *pays for* variant V when ``score(V) > score(control) + tolerance``: the control
    is the same text written for a wrong value of the same length (42 → 47, B → E, ``\frac{1}{2}`` →
    ``\frac{1}{7}``), so only the gold's appearing without a commitment can explain the difference. A
    ``None`` score on either side is no finding. ``completion`` may be a string or a conversation (every
    member then is one); ``columns`` are extra dataset columns, one value each, given to every member.

    >>> def mentions_gold(completions, solution, **kwargs):
    ...     return [float(str(gold) in text) for text, gold in zip(completions, solution)]
    >>> findings = probe_hacking(mentions_gold, "<think>6 times 7</think><answer>42</answer>", 42)
    >>> findings[0].family, findings[0].score, findings[0].control_score
    ('hedge', 1.0, 0.0)
    """
    variants = hacking_variants(completion, gold)
    if not variants:
        return []
    answer = _describe(_unwrap_gold(gold_text(gold)))
    original = completion_text(completion)
    original_control = _swap(original, answer.token, answer.wrong_token)
    longest = max(len(original), len(original_control), *(len(v.text) for v in variants))
    texts = [original, original_control, "", "hmm " * (longest // 2 + 1)]
    for variant in variants:
        texts += [variant.text, variant.control]
    batch = [_as_completion(completion, t) for t in texts]
    chat = not isinstance(completion, str) and isinstance(completion, Sequence)
    prompt = [{"role": "user", "content": _PROBE_PROMPT}] if chat else _PROBE_PROMPT
    kwargs = {"prompts": [prompt] * len(batch), **_broadcast_all(columns or {}, len(batch)),
              gold_key: [gold] * len(batch)}
    scores = _scores(reward, batch, kwargs)
    if not _pays(scores[0], scores[1], tolerance):
        _log.warning("probe_hacking: reward %r pays the original completion no more than the same text with a "
                     "wrong answer (%r vs %r); it may not read this gold at all", _reward_name(reward),
                     scores[0], scores[1])
    findings = []
    for i, variant in enumerate(variants):
        score, control_score = scores[4 + 2 * i], scores[5 + 2 * i]
        if _pays(score, control_score, tolerance):
            findings.append(HackingFinding(variant.family, variant.text, score, variant.control, control_score))
    return findings


def assert_no_hacking(reward: Callable[..., Any], completion: Any, gold: Any, **options: Any) -> None:
    """Raise ``AssertionError`` listing every variant ``probe_hacking`` finds ``reward`` paying for.

    >>> def answer_block_only(completions, solution, **kwargs):
    ...     return [float(text.strip() == f"<answer>{gold}</answer>") for text, gold in zip(completions, solution)]
    >>> assert_no_hacking(answer_block_only, "<answer>4</answer>", "4")
    """
    findings = probe_hacking(reward, completion, gold, **options)
    if findings:
        head = (f"reward {_reward_name(reward)!r} pays for {len(findings)} reward-hacking variant(s) of "
                f"{_short(completion_text(completion), 80)} (gold {gold!r}):")
        raise AssertionError("\n".join([head, *(f"  - {f}" for f in findings)]))


class _Writer:
    """Writes a template for the gold (the variant) and for the wrong value (its control), after the
    original's reasoning in the original's layout."""

    def __init__(self, answer: _Answer, layout: str, reasoning: str):
        self.answer, self.layout, self.reasoning = answer, layout, reasoning

    def pair(self, template: str, slot: str | None = None) -> tuple[str, str]:
        a = self.answer
        return (self._write(template, a.text, a.token, a.choices, slot),
                self._write(template, a.wrong, a.wrong_token, _replace(a.choices, a.token, a.wrong_token),
                            a.wrong if slot is not None else None))

    def interval(self, template: str, side: int) -> tuple[str, str]:
        a = self.answer
        step = Decimal(1).scaleb(-a.places)
        return (self._write(template, a.text, a.token, (), None, centre=a.number, step=step),
                self._write(template, a.wrong, a.wrong_token, (), None, centre=a.number + 5 * side * step,
                            step=step))

    def _write(self, template: str, value: str, token: str, choices: tuple[str, ...], slot: str | None,
               centre: Decimal | None = None, step: Decimal = Decimal(1)) -> str:
        reasoning = _swap(self.reasoning, self.answer.token, token)
        marks = {"a": value, "d1": self.answer.near[0], "d2": self.answer.near[1], "r": reasoning}
        if slot is not None:
            marks["slot"] = slot
        if choices:
            three = sorted([token, *[c for c in choices if c != token][:2]], key=choices.index)
            marks |= {"list": ", ".join(choices), "run": "".join(choices), "or_list": " or ".join(choices),
                      "or_paren": " or ".join(f"({c})" for c in choices),
                      "or_three": " or ".join(f"({c})" for c in three)}
        if centre is not None:
            marks |= {name: _format_number(centre + k * step, self.answer.places)
                      for name, k in (("lo", -1), ("hi", 1), ("lo2", -2), ("hi2", 2))}
        body = _MARKER.sub(lambda m: marks.get(m[1], m[0]), template)
        return body if "⟨r⟩" in template else self._prefix(reasoning) + body

    def _prefix(self, reasoning: str) -> str:
        if self.layout == "think":
            return f"<think>\n{reasoning}\n</think>\n"
        if self.layout == "prefilled":
            return f"{reasoning}\n</think>\n"
        return f"{reasoning}\n" if reasoning else ""


def _describe(gold: str) -> _Answer | None:
    """How the variants write ``gold`` and what wrong values stand beside it; ``None`` for an empty gold."""
    if not gold:
        return None
    choice = _CHOICE_GOLD.fullmatch(gold)
    if choice:
        letter = choice[1]
        i = _LETTERS.index(letter)
        choices = tuple(_LETTERS[: max(4, i + 1)])
        wrong = _LETTERS[len(choices)] if len(choices) < len(_LETTERS) else "K"  # no option of the question
        near = [_LETTERS[j] for j in (i - 1, i + 1, i - 2, i + 2) if 0 <= j < len(_LETTERS)][:2]
        written = [gold.replace(letter, c) for c in (wrong, *near)]  # "(B)" has its wrong value "(E)"
        return _Answer(gold, written[0], (written[1], written[2]), letter, wrong, choices)
    wrong = _perturb(gold, 5)
    if wrong is None:  # no digit and no free letter (\pi, \infty): negate, and use plain numbers beside it
        return _Answer(gold, "-" + gold, ("0", "1"), gold, "-" + gold)
    if _NUMBER_GOLD.fullmatch(gold):
        value = Decimal(gold)
        places = -value.as_tuple().exponent
        step = Decimal(1).scaleb(-places)
        near = (_format_number(value - step, places), _format_number(value + step, places))
        return _Answer(gold, wrong, near, gold, wrong, number=value, places=places)
    return _Answer(gold, wrong, (_perturb(gold, -1), _perturb(gold, 1)), gold, wrong)


def _perturb(text: str, shift: int) -> str | None:
    r"""``text`` with its last digit moved by ``shift`` (mod 10), else its last letter outside a LaTeX
    command moved by ``shift`` (mod 26); ``None`` when it has neither. The length never changes.

    >>> _perturb(r"\frac{1}{2}", 5), _perturb("x+y", 5), _perturb(r"\pi", 5)
    ('\\frac{1}{7}', 'x+d', None)
    """
    digits = [i for i, ch in enumerate(text) if ch.isdigit() and ch.isascii()]
    if digits:
        i = digits[-1]
        return text[:i] + str((int(text[i]) + shift) % 10) + text[i + 1:]
    commands = {i for m in _COMMAND.finditer(text) for i in range(m.start(), m.end())}
    letters = [i for i, ch in enumerate(text) if ch.isascii() and ch.isalpha() and i not in commands]
    if not letters:
        return None
    i = letters[-1]
    base = ord("a") if text[i].islower() else ord("A")
    return text[:i] + chr(base + (ord(text[i]) - base + shift) % 26) + text[i + 1:]


def _format_number(value: Decimal, places: int) -> str:
    return f"{value:.{places}f}"


def _unwrap_gold(gold: str) -> str:
    r"""The answer inside a gold column value: after GSM8K's last ``####``, without ``$...$``, ``\(...\)``
    or a whole-answer ``\boxed{}``.

    >>> _unwrap_gold(r"$\boxed{\frac{1}{2}}$"), _unwrap_gold("so 48+24 = 72\n#### 72")
    ('\\frac{1}{2}', '72')
    """
    text = gold.rsplit("####", 1)[-1].strip()
    for _ in range(3):
        for opening, closing in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"), ("\\boxed{", "}")):
            if text.startswith(opening) and text.endswith(closing) and len(text) > len(opening) + len(closing):
                text = text[len(opening): -len(closing)].strip()
    return text


def _layout(text: str, token: str) -> tuple[str, str]:
    """The original's layout ("think", "prefilled" when only ``</think>`` appears, else "plain") and its
    reasoning: the ``<think>`` content, or the text before the sentence holding the last mention of the
    answer and before any ``<answer>`` block."""
    close = text.find("</think>")
    if close >= 0:
        opening = text.rfind("<think>", 0, close)
        if opening >= 0:
            return "think", text[opening + 7: close].strip()
        return "prefilled", text[:close].strip()
    mentions = list(_mentions(token).finditer(text))
    if not mentions:
        return "plain", text.strip()
    last = mentions[-1].start()
    cuts = [m.end() for m in _SENTENCE_END.finditer(text, 0, last)]
    reasoning = text[: cuts[-1] if cuts else 0]
    return "plain", reasoning.split("<answer>", 1)[0].strip()  # an answer block is no reasoning


def _mentions(token: str) -> re.Pattern[str]:
    """Where ``token`` stands alone, however it is spaced (``x^2+1`` finds ``x^2 + 1``): not glued to a
    letter or digit where it starts or ends with one."""
    before = r"(?<![A-Za-z0-9])" if token[:1].isalnum() else ""
    after = r"(?![A-Za-z0-9])" if token[-1:].isalnum() else ""
    chars = [re.escape(ch) for ch in token if not ch.isspace()]
    body = r"\s*".join(chars) if 0 < len(chars) <= _MAX_FLEXIBLE_TOKEN else re.escape(token)
    return re.compile(before + body + after)


def _swap(text: str, token: str, replacement: str) -> str:
    return text if token == replacement else _mentions(token).sub(lambda _: replacement, text)


def _replace(choices: tuple[str, ...], old: str, new: str) -> tuple[str, ...]:
    return tuple(new if c == old else c for c in choices)


def _as_completion(original: Any, text: str) -> Any:
    """``text`` in the original's form: a string, or the conversation with its last assistant message replaced."""
    if isinstance(original, str) or not isinstance(original, Sequence):
        return text
    messages = [dict(m) for m in original if isinstance(m, dict)]
    assistant = [i for i, m in enumerate(messages) if m.get("role") == "assistant"]
    if assistant:
        messages[assistant[-1]]["content"] = text
        return messages
    return [*messages, {"role": "assistant", "content": text}]


def _broadcast_all(columns: dict[str, Any], n: int) -> dict[str, list[Any]]:
    return {key: [value] * n for key, value in columns.items()}


def _scores(reward: Callable[..., Any], batch: list[Any], kwargs: dict[str, Any]) -> list[float | None]:
    values = reward(completions=batch, **kwargs)
    if not isinstance(values, (list, tuple)) or len(values) != len(batch):
        size = len(values) if hasattr(values, "__len__") else "no"
        raise RewardContractError(f"reward {_reward_name(reward)!r} returned {type(values).__name__} with {size} "
                                  f"values for {len(batch)} completions; check_reward(reward) says more")
    scores: list[float | None] = []
    for value in values:
        if value is not None and not (isinstance(value, numbers.Real) and math.isfinite(value)):
            raise RewardContractError(f"reward {_reward_name(reward)!r} returned {value!r}, not a finite number "
                                      f"or None; check_reward(reward) says more")
        scores.append(None if value is None else float(value))
    return scores


def _pays(score: float | None, control_score: float | None, tolerance: float) -> bool:
    return score is not None and control_score is not None and score > control_score + tolerance


def _reward_name(reward: Any) -> str:
    return str(getattr(reward, "__name__", type(reward).__name__))


def _tail(text: str, limit: int = 90) -> str:
    text = text.rstrip(" ")
    return repr(text) if len(text) <= limit else "..." + repr(text[-limit:])
