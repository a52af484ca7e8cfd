"""``probe_hacking``: from one correct completion, the known reward-hacking variants, and which of them a reward pays for.
It must never call a variant paid unless it outscores its own control (the same text for a wrong value)."""

from __future__ import annotations

import logging
import math
import numbers
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rewards.completions import completion_text, gold_text
from rewards.testing.contract import RewardContractError, short

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
        r"It is not $\boxed{⟨a⟩}$.",
        r"$\boxed{⟨a⟩}$ is wrong.",
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
                f"{short(completion_text(completion), 80)} (gold {gold!r}):")
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
