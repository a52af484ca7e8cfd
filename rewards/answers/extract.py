"""Reads the answer a completion commits to: an ``<answer>`` block, a closed box, "the answer is", ``####``, a final statement.
It must never raise, and never read an answer out of text that does not commit to one (reasoning, truncation, hedges, negations)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from rewards.answers.normalize import Answer, normalize, unwrap_math

MAX_TEXT_CHARS = 200_000
MAX_VALUES = 12  # distinct values joined into one multi-valued answer at most
MAX_BOXES = 48  # more boxes since the last revision are a spray, not one answer
TAIL_CHARS = 3000  # the final statement is looked for in the last 3,000 characters
MAX_STATEMENT_CHARS = 240  # a longer last sentence is no short final statement
MAX_SPAN_CHARS = 300  # a $...$ body longer than this is not one math span
PHRASE_CHARS = 2000  # what follows "the answer is" is read from at most this many characters


@dataclass(frozen=True)
class ExtractionConfig:
    """Where to look, in order: the last ``<answer>`` block (else the text after ``</think>``), then the
    closed boxes, then "the answer is ...", then ``####``, then (if ``final_statement``) a short final
    statement. Answers longer than ``max_answer_chars`` are not read."""

    answer_tag: str = "answer"
    final_statement: bool = True
    max_answer_chars: int = 1000


DEFAULT = ExtractionConfig()

_BOX = re.compile(r"\\(?:boxed|fbox)(?![a-zA-Z])")
_BRACE = re.compile(r"(?<!\\)(?:\\\\)*([{}])")  # a brace after an even run of backslashes (``\\}`` closes)
_SPACE = re.compile(r"[ \t]*")
_TOKEN = re.compile(r"[^\s$]+")
_PHRASE = re.compile(
    r"(?:final answer|the answer|answer|correct (?:option|choice|answer)|result)\s*(?:is|:|=|would be|will be)\s*:?\s*",
    re.IGNORECASE,
)
_CHOICE = re.compile(r"^\(?\s*([A-J])\s*\)?(?:[.:)]|\s*$|\s)")
_FILLER = re.compile(r"(?:so|thus|hence|therefore|then|answer|the|we|it|i|which|that|this)\b", re.IGNORECASE)
_LEADING_FILLER = re.compile(
    r"^[\s,;:.*]*(?:(?:so|thus|hence|therefore|then|finally|overall|altogether|in total|in conclusion|"
    r"(?:final )?answer|result)\b[\s,:*]*)+", re.IGNORECASE)
# Math spans: display forms first, then $...$ paired by hand (a lone or prose-enclosing $ is currency).
_DISPLAY_SPAN = re.compile(r"\$\$.{1,600}?\$\$|\\\(.{1,600}?\\\)|\\\[.{1,600}?\\\]|"
                           r"\\begin\{([a-zA-Z]{1,12}\*?)\}.{0,600}?\\end\{\1\}", re.DOTALL)
_DOLLAR = re.compile(r"(?<!\\)\$")
_SPAN_DELIMITER = re.compile(r"(?<!\\)\$|\\[()\[\]]")
_PLACEHOLDER = "[\ue000-\uf7ff]"
_PLACEHOLDERS = re.compile(_PLACEHOLDER)
_PLAIN_NUMBER = (r"(?<![\w.\\])(?:-?\d+\s+\d+/\d+(?![\w/])|-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?(?![\w])"
                 r"|-?\.\d+(?![\w]))(?:\s?\\?%)?")
_VALUE = re.compile(_PLACEHOLDER + "|" + _PLAIN_NUMBER)
_UNIT_STOP = (r"(?:a|an|the|of|to|in|on|at|by|for|with|from|and|or|but|so|then|than|that|which|who|is|are|was|were|"
              r"be|been|each|every|per|left|total|altogether|remaining|more|less|now|today|this|these|those|it|he|"
              r"she|they|we|i|you|not|as|if|when|after|before|because|since|while|all|both|only|also|here|there|"
              r"surely|indeed|exactly|instead|rather)\b")
_UNIT_WORD = re.compile(
    r"[ \t]+(?!" + _UNIT_STOP + r")(?:[A-Za-z]{1,20}(?:/[A-Za-z]{1,10}|\^\{?\d\}?)?(?![\w/])|\\text\{[^{}]{1,30}\})",
    re.IGNORECASE)
_RESULT_CLAUSE = re.compile(
    r"[,;]\s*(?:and\s+)?(?:so|thus|therefore|hence|which (?:means|gives|is)|giving|making|for a total of)\b[\s,]*",
    re.IGNORECASE)
# "x = value", "the total is value": the last such mark before a single value makes that value the result
_RESULT_MARK = re.compile(
    r"(?<![<>!=\\])=(?!=)|\b(?:is|are|was|were|equals|becomes|gives|makes|yields|comes to)\b", re.IGNORECASE)
_RHS_LEAD = re.compile(r"^[\s$*\\]*(?:[A-Za-z]+[\s$*]+){0,2}$")
_CONJUNCTION_GAP = re.compile(r"^[\s,;$]*(?:and|or|&|\\text\{\s*(?:and|or)\s*\})?[\s,$]*$", re.IGNORECASE)
_RHS_TAIL = re.compile(r"^[^,;:=]{0,80}$")
_BULLET = re.compile(r"^(?:[-*•+]|\d{1,2}[.)]|\(?[a-z]\))\s+")
_SENTENCE_END = re.compile(r"[.!?;](?=\s|$)")
_SENTENCE_BREAK = re.compile(r"[.!?](?=\s+\S)")
_WORD3 = re.compile(r"[A-Za-z]{3,}")
_WORDS = re.compile(r"[A-Za-z]{2,}")
_MATHY = re.compile(r"[\d$\\]")
_COMMANDS = re.compile(r"\\[a-zA-Z]+")
_TEXT_GROUP = re.compile(r"\\(?:text|textbf|textit|textrm|mathrm|mbox|textnormal|operatorname)\s*\{([^{}]*)\}")

# Commitment vocabulary. A hedge anywhere in the answer's sentence voids it; a revision between two answers
# makes the later one supersede the earlier; a retraction after the last answer withdraws it; a rejection
# word inside an answer ("15 is incorrect") voids it.
_HEDGE = re.compile(
    r"\b(?:maybe|perhaps|possibly|probably|most likely|alternatively|not (?:sure|certain)|unsure|uncertain|"
    r"(?:my )?(?:best )?guess|(?:could|might|may) (?:also )?be|either\b[^.!?\n]{0,80}?\bor|"
    r"between\s+\S{1,40}\s+and)\b",
    re.IGNORECASE)
_REVISION = re.compile(
    r"\b(?:wait|actually|correction|correcting|corrected|the correct (?:answer|value|result)|mistakes?|mistaken|"
    r"errors?|wrong|incorrect|oops|re-?do(?:ing)?|re-?check(?:ing|ed)?|double[- ]check(?:ing|ed)?|"
    r"re-?comput(?:e|ing|ed)|re-?calculat(?:e|ing|ed|ion)|recount(?:ing|ed)?|reconsider(?:ing)?|"
    r"re-?evaluat(?:e|ing)|re-?examin(?:e|ing)|miscalculat\w*|misread|i made an?|i forgot|i dropped|i missed|"
    r"overlooked|scratch that|let me fix|revis(?:e|ed|ing))\b",
    re.IGNORECASE)
_REJECTION = re.compile(r"\b(?:wrong|incorrect|mistaken|mistake|not (?:right|correct))\b", re.IGNORECASE)
_RETRACTION = re.compile(
    r"\b(?:(?:that|this|it|which|mine|my (?:answer|result)|something)(?:'s| is| was| went)? (?:wrong|incorrect|"
    r"not (?:right|correct)|a mistake)|i (?:was|am) wrong|(?:i )?made an? (?:error|mistake|slip)|an error in|"
    r"miscalculat\w*|scratch that|oops|let me redo|redo (?:this|that|it)|wait,? (?:no|wrong)\b)",
    re.IGNORECASE)
_PLANNING = re.compile(
    r"\blet(?:'s| me| us)\b|\b(?:we|i)(?: still)? (?:need|want|have|must|should|will|can|shall) to\b|"
    r"\b(?:we|i) (?:will|should|must|shall)\b|\b(?:we|i)'ll\b|\bgoing to\b|"
    r"\bto (?:compute|find|calculate|determine|solve|check|get|show|prove)\b|"
    r"^(?:now|next|first(?:ly)?|second(?:ly)?),?\s*(?:we|i|let)\b|"
    r"^(?:consider|suppose|assume|if|recall|note that|notice|compute|calculate|determine|multiply|divide|add|"
    r"subtract|substitute|plug|solve|check|verify|try|find)\b",
    re.IGNORECASE)
_UNFINISHED = re.compile(
    r"(?:(?<=[\w,] )(?:a|an|the|of|to|in|on|at|by|for|with|from|and|or|but|so|then|than|that|which|is|are|was|be|we|"
    r"it|as|if|into|get|gives|equals|first|let|me|us|this|these|whether|where|when|while|because|since|until|"
    r"unless|about|each|every|both|its|their|his|her|our|my|your|not|no)\b|[=+\-*/^(,:])\s*$",
    re.IGNORECASE)
_VALUE_ATOM = (r"(?:-?\d|-?\.\d|\\(?:frac|dfrac|tfrac|sqrt|pi|infty)|\(\s*[A-Ja-j]\s*\)|(?-i:[A-J])(?![A-Za-z])|\$|"
               + _PLACEHOLDER + ")")
_NEGATION = re.compile(
    r"(?:\bnot|n't|\bnever|\bcannot|\brather than|\binstead of|\bother than|\bexcept)\s+"
    r"(?:(?:be|equal|equals|to|exactly|the|answer|is)\s+)*[(\s]*" + _VALUE_ATOM, re.IGNORECASE)
_NEGATED_BEFORE = re.compile(
    r"(?:(?:\bnot|n't|\bnever|\bcannot|\brather than|\binstead of|\bother than|\bexcept|\bnor)\s+"
    r"(?:(?:be|equal|equals|to|exactly|the|answer|is|of)\s+)*|\\neq?\s*|≠\s*|!=\s*)[(\s$*]*$",
    re.IGNORECASE)
_NEGATED_AFTER = re.compile(
    r"^[\s$*)]*(?:(?:(?:is|was|are|would be|'s)\s+)?(?:not|wrong|incorrect|false|impossible)\b|"
    r"(?:isn't|wasn't|aren't|can't|cannot)\b)",
    re.IGNORECASE)
_BOUNDED_BEFORE = re.compile(
    r"(?:\bat (?:least|most)|\bno (?:more|less|fewer) than|\b(?:more|less|fewer|greater|smaller) than|\bup to|"
    r"\bover|\bunder|\bbelow|\babove|\baround|\babout|\bapproximately|\bapprox\.?|\broughly|\bnearly|\balmost|"
    r"\bclose to|≈|\\approx|~)\s*[$\s]*$",
    re.IGNORECASE)
_LABEL_BEFORE = re.compile(
    r"\b(?:step|part|case|problem|question|exercise|equation|eq|line|item|section|chapter|figure|fig|page|row|"
    r"column|example|lemma|theorem|round|stage|phase|attempt|method|approach|condition|hint)\.?\s*[#(]?\s*$",
    re.IGNORECASE)
_REJECTED_CLAUSE = re.compile(
    r"\s*[,;]?\s*\(?\s*(?:but\s+)?\b(?:not|rather than|instead of)\s+(?:equal to\s+)?"
    r"(-?[\d.,/]*\d|\\[a-zA-Z]+(?:\{[^{}]*\})*|(?-i:[A-J])\b|\(\s*[A-J]\s*\))\s*\)?", re.IGNORECASE)
_ASSERTION_TAIL = re.compile(
    r"\s*[,;]?\s*(?:\\text\{\s*)?\b(?:(?!(?:probab|possib|approximate|rough|near|like|hard)ly\b)[A-Za-z]{3,}ly|"
    r"indeed|for sure|of course|yes|for certain|no doubt)\s*\}?\s*[.!]?\s*$", re.IGNORECASE)
_LEADING_NE = re.compile(r"^(?:\\neq?(?![a-zA-Z])|≠|!=)")
_BOUND = re.compile(r"\b(?:at (?:least|most)|no (?:more|less|fewer) than|(?:more|less|fewer|greater|smaller) than|"
                    r"up to)\s+" + _VALUE_ATOM + r"|^(?:approximately|approx\.?|about|roughly|around|nearly|almost|"
                    r"≈|\\approx|~)", re.IGNORECASE)


def extract_answer(text: str, config: ExtractionConfig = DEFAULT) -> str | None:
    r"""The answer ``text`` commits to, as written (not normalized); ``None`` when it commits to none.

    >>> extract_answer("<think>maybe \\boxed{3}</think><answer>\\boxed{4}</answer>")
    '4'
    >>> extract_answer(r"so the total is $\boxed{\frac{3}{4}}$.")
    '\\frac{3}{4}'
    >>> extract_answer("The answer is (B).")
    'B'
    >>> extract_answer("It is 9, not 8."), extract_answer("Either 6 or 7 works."), extract_answer(r"\boxed{12")
    ('9', None, None)
    """
    if not isinstance(text, str):
        return None
    try:
        return _extract(text[-MAX_TEXT_CHARS:], config)
    except RecursionError:
        return None


def gold_answer(gold: str) -> str | None:
    r"""The answer inside a gold string: bare, ``$...$``-wrapped, ``\boxed{}``, an ``<answer>`` block, or a worked
    solution (``#### 72`` as in GSM8K, else read like a completion). Short prose without a value stays as written.

    >>> gold_answer(r"$\boxed{\frac{\sqrt3}{2}}$"), gold_answer("The total is 42 apples."), gold_answer("does not exist")
    ('\\frac{\\sqrt3}{2}', '42 apples', 'does not exist')
    """
    if not isinstance(gold, str):
        return None
    gold = gold[-MAX_TEXT_CHARS:]
    if "####" in gold:  # a GSM8K solution kept whole: the answer follows the last ####
        return gold.rsplit("####", 1)[1].strip() or None
    if "<answer>" in gold:
        return extract_answer(gold)
    boxes = _closed_boxes(gold)
    if boxes is None:
        return None  # an unclosed box: the gold itself is broken
    boxes = [box for box in boxes if box[0]]
    if boxes:
        group = _since_revision(gold, boxes)
        return ", ".join(_distinct(content for content, _, _ in group)) if group else None
    if is_prose(gold):  # a worked solution, or a sentence: read it like a completion
        answer = extract_answer(gold)
        if answer or "\n" in gold.strip() or len(gold) > 80:
            return answer
    return unwrap_math(gold) or None


def is_prose(text: str) -> bool:
    """Three or more words outside LaTeX commands and ``\\text{}``: a sentence, not a formula.

    >>> is_prose(r"\\frac{1}{2} \\text{ or } 3"), is_prose("so the total is 12")
    (False, True)
    """
    bare = re.sub(r"\\[a-zA-Z]+\s*(?:\{[^{}]*\})?", " ", text)
    return len(re.findall(r"[A-Za-z]{2,}", bare)) >= 3


def _extract(text: str, config: ExtractionConfig) -> str | None:
    found = _answer_region(text, config.answer_tag)
    if found is None:
        return None
    region, blocks = found
    if blocks:  # several blocks since the last revision are one multi-valued answer, as boxes are
        group = _since_revision(region, blocks)
        answers = [_read(content, True, config) for content, _, _ in group] if group else [None]
        answer = None if None in answers else ", ".join(_distinct(answers))
    else:
        answer = _read(region, False, config)
    if answer is None:
        return None
    answer = answer.strip()
    return answer if 0 < len(answer) <= config.max_answer_chars else None


def _answer_region(text: str, tag: str) -> tuple[str, list[tuple[str, int, int]]] | None:
    """Where the committed answer may be: the text after the last ``</think>`` (else the whole text) and its
    closed ``<tag>`` blocks as (content, start, end); ``None`` when the text ends inside ``<think>`` or an
    unclosed ``<tag>``, or nothing follows ``</think>``."""
    think_open, think_close = text.rfind("<think>"), text.rfind("</think>")
    if think_open > think_close:
        return None  # still thinking (truncated): nothing in the reasoning is a committed answer
    if think_close >= 0:
        text = text[think_close + len("</think>"):]
        if not text.strip():
            return None  # the answer is only in the reasoning
    opening, closing = f"<{tag}>", f"</{tag}>"
    if text.rfind(opening) > text.rfind(closing):
        return None  # an unclosed answer tag: the model may not have finished writing it
    blocks, start = [], None
    for mark in re.finditer(re.escape(opening) + "|" + re.escape(closing), text):
        if mark.group() == opening:
            start = mark.end()
        elif start is not None:
            blocks.append((text[start: mark.start()], start, mark.end()))
            start = None
    return text, blocks


def _read(region: str, tagged: bool, config: ExtractionConfig) -> str | None:
    """The first reader that finds a commitment decides: boxes, then "the answer is", then ``####``, then the
    block's own text (tagged) or a bare formula / final statement."""
    boxes = _closed_boxes(region)
    if boxes is None:
        return None  # the text ends inside a box
    filled = [box for box in boxes if box[0]]
    if filled:
        return _boxed_answer(region, filled, config)
    if boxes:
        return None  # only empty boxes: a placeholder where the answer belongs
    phrase = _phrase_answer(region)
    if phrase is not None:
        answer, end = phrase
        return _unless_retracted(answer, region[end:], config)
    marker = _gsm8k_marker(region)
    if marker is not None:
        return _commit_formula(marker)
    content = region.strip()
    if tagged:
        if not content:
            return None
        if (not is_prose(content) and not _SENTENCE_BREAK.search(content)) or not _MATHY.search(content):
            return _commit_formula(content)  # a formula, or a worded answer ("does not exist")
        return _final_statement(content)
    if _looks_bare(content):
        return _commit_formula(content)
    return _final_statement(region) if config.final_statement else None


def _unless_retracted(answer: str | None, tail: str, config: ExtractionConfig) -> str | None:
    """An answer followed by a rejection ("Wait, that's wrong") is retracted: what the text states after the
    rejection is the answer, if it states one."""
    rejections = list(_RETRACTION.finditer(tail))
    if not rejections:
        return answer
    return _final_statement(tail[rejections[-1].end():]) if config.final_statement else None


def _boxed_answer(region: str, boxes: list[tuple[str, int, int]], config: ExtractionConfig) -> str | None:
    r"""The boxes since the last revision, joined as one answer: a later box after "wait / actually / I made an
    error" supersedes the earlier ones; several unretracted boxes are one multi-valued answer.

    >>> _boxed_answer(r"\boxed{3} or \boxed{4}", _closed_boxes(r"\boxed{3} or \boxed{4}"), DEFAULT)
    '3, 4'
    """
    group = _since_revision(region, boxes)
    if group is None:
        return None
    group = _unnegated(region, group)
    if not group:
        return None
    sentence = _sentence_around(region, group[0][1], group[-1][2])
    if _HEDGE.search(_plain(sentence)) or sentence.rstrip().endswith("?"):
        return None
    committed = [_commit_formula(content) for content, _, _ in group]
    if any(answer is None for answer in committed):
        return None
    values = _distinct(committed)
    if len(values) > MAX_VALUES:
        return None
    return _unless_retracted(", ".join(values), region[group[-1][2]:], config)


def _unnegated(region: str, group: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    r"""The boxes the text does not deny: ``not \boxed{15}``, ``x \ne \boxed{3}``, ``\boxed{15} is wrong`` are
    denied; none at all when one value is both boxed and denied.

    >>> text = r"It is not \boxed{15} but \boxed{16}."
    >>> [box[0] for box in _unnegated(text, _closed_boxes(text))]
    ['16']
    """
    kept, denied = [], set()
    for box in group:
        content, start, end = box
        if _NEGATED_BEFORE.search(region[max(0, start - 40): start]) or _NEGATED_AFTER.match(region[end:]):
            denied.add(normalize(content))
        else:
            kept.append(box)
    return [] if any(normalize(box[0]) in denied for box in kept) else kept


def _since_revision(region: str, boxes: list[tuple[str, int, int]]) -> list[tuple[str, int, int]] | None:
    """The last box and the boxes before it back to the last revision ("wait", "actually", "I made an error"
    between two boxes of different values, without a hedge there; a recheck that confirms a value is no
    revision); ``None`` for more than ``MAX_BOXES`` of them."""
    group = [boxes[-1]]
    for box in reversed(boxes[:-1]):
        gap = region[box[2]: group[-1][1]]
        if (_REVISION.search(gap) and not _HEDGE.search(gap)
                and normalize(box[0]) != normalize(group[-1][0])):
            break
        group.append(box)
        if len(group) > MAX_BOXES:
            return None
    return group[::-1]


def _distinct(answers) -> list[str]:
    """Answers in order, each once (two spellings that normalize alike count once)."""
    seen, kept = set(), []
    for answer in answers:
        key = normalize(answer)
        if key not in seen:
            seen.add(key)
            kept.append(answer)
    return kept


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence (or line) that contains ``text[start:end]``."""
    before = text[max(0, start - 300): start]
    cut = max(before.rfind("\n"), max((m.end() for m in _SENTENCE_END.finditer(before)), default=-1))
    after = text[end: end + 300]
    stop = _SENTENCE_END.search(after)
    line_end = after.find("\n")
    stops = [i for i in (stop.end() if stop else -1, line_end) if i >= 0]
    return before[cut + 1 if cut >= 0 else 0:] + text[start:end] + after[: min(stops) if stops else len(after)]


def _closed_boxes(text: str) -> list[tuple[str, int, int]] | None:
    """Every ``\\boxed``/``\\fbox`` as (content, start, end), innermost of nested ones, in order (an empty box
    has content ``""``); ``None`` when a box is never closed. Braces are matched once (linear time)."""
    closing = _matching_braces(text)
    boxes: list[tuple[str, int, int]] = []
    for match in _BOX.finditer(text):
        box = _box_at(text, match.end(), closing)
        if box is None:
            return None
        content, end = box
        if boxes and match.start() < boxes[-1][2]:  # nested inside the previous box: keep the inner one
            boxes[-1] = (content.strip(), match.start(), boxes[-1][2])
        else:
            boxes.append((content.strip(), match.start(), end))
    return boxes


def _matching_braces(text: str) -> dict[int, int]:
    """Index of each unescaped ``{`` -> index of its matching ``}`` (unmatched ones are absent)."""
    stack, pairs = [], {}
    for brace in _BRACE.finditer(text):
        if brace.group(1) == "{":
            stack.append(brace.start(1))
        elif stack:
            pairs[stack.pop()] = brace.start(1)
    return pairs


def _box_at(text: str, i: int, closing: dict[int, int]) -> tuple[str, int] | None:
    """The box whose argument starts at ``i``: ``{...}`` or one token (``\\boxed 5``); ``None`` if unclosed."""
    i = _SPACE.match(text, i).end()
    if i >= len(text):
        return None
    if text[i] != "{":
        token = _TOKEN.match(text, i)
        return (token.group().rstrip(".,"), token.end()) if token else ("", i)
    if i not in closing:
        return None
    return text[i + 1: closing[i]], closing[i] + 1


def _phrase_answer(region: str) -> tuple[str, int] | None:
    """What follows the last "the answer is" / "Answer:", up to the end of that sentence or line, and where
    it ends; ``None`` when there is no such phrase or it commits to nothing (a question, a hedge, a negation)."""
    matches = list(_PHRASE.finditer(region))
    if not matches:
        return None
    match = matches[-1]
    masked, spans = _mask_math(region[match.end(): match.end() + PHRASE_CHARS])
    lead = len(masked) - len(masked.lstrip(" \t\n*:"))
    stop = re.search(r"\n|[.!](?=\s|$)|\?", masked[lead:])
    cut = lead + (stop.start() if stop else len(masked) - lead)
    rest = masked[lead:cut].strip().strip("*").strip()
    if not rest or (stop and stop.group() == "?"):
        return None
    end = match.end() + len(_unmask(masked[:cut], spans))
    if _HEDGE.search(_plain(_sentence_around(region, match.start(), match.end()) + " " + _unmask(rest, spans))):
        return None
    choice = _CHOICE.match(rest)
    if choice and (len(rest) <= 4 or rest[:3].startswith("(")):
        return choice.group(1), end
    text = _unmask(rest, spans)
    answer = _commit_formula(text) if not is_prose(text) else _statement_value(rest, spans)
    return (answer, end) if answer else None


def _gsm8k_marker(text: str) -> str | None:
    """What follows the last ``####`` on its line (GSM8K's answer marker), if anything does."""
    if "####" not in text:
        return None
    return text.rsplit("####", 1)[1].strip().split("\n", 1)[0].strip() or None


def _looks_bare(text: str) -> bool:
    """A short one-line text that is no sentence is itself the answer (``x^2-1=0``, ``\\frac{1}{2}``, ``Tuesday``);
    an equation followed by words (``9 * 2 = $18 every day.``) is a statement, and a phrase of words without
    any math (``no answer``) is no formula."""
    words = [word for word in _WORDS.findall(text) if word.lower() not in ("or", "and")]
    return (0 < len(text) <= 120 and "\n" not in text and not is_prose(text) and not _FILLER.match(text)
            and (len(words) < 2 or _MATHY.search(text) is not None)
            and not _SENTENCE_BREAK.search(text)
            and not _PLANNING.search(text) and not _UNFINISHED.search(text)
            and not ("=" in text and _WORD3.search(_COMMANDS.sub(" ", _plain(text)))))


def _commit_formula(text: str) -> str | None:
    r"""A formula-like answer (a box, a tag, what follows "the answer is") if it commits to a value: no hedge,
    no question, no negated value; a rejected alternative (``9 (not 8)``) and a trailing assertion word
    (``9, surely``) are dropped. A relation with a left side (``x \ne 3``) stays a relation.

    >>> _commit_formula("9 (not 8)"), _commit_formula("9, surely"), _commit_formula("not 15"), _commit_formula("7?")
    ('9', '9', None, None)
    """
    text = _unwrap_whole(text)
    plain = _plain(text)
    if (not text or _HEDGE.search(plain) or plain.rstrip(" .").endswith("?") or _LEADING_NE.match(plain)
            or _BOUND.search(plain) or _REJECTION.search(plain)):
        return None
    if _NEGATION.search(plain):
        rejected = [normalize(m.group(1)) for m in _REJECTED_CLAUSE.finditer(plain)]
        text = re.sub(r"^(?:but|it is|it's)\s+", "", _REJECTED_CLAUSE.sub("", plain).strip(" ,;"), flags=re.I)
        if not re.search(r"[\w\\]", text) or _NEGATION.search(text) or normalize(text) in rejected:
            return None
    head, tail = text[:-60], text[-60:]  # the assertion word is at the very end: a bounded look
    return (head + _ASSERTION_TAIL.sub("", tail)).strip() or text


def _unwrap_whole(text: str) -> str:
    """``text`` without its math delimiters or whole-answer box, when it is one span (``$x$ or $y$`` stays)."""
    text, inner = text.strip(), unwrap_math(text)
    return text if inner != text and _SPAN_DELIMITER.search(inner) else inner


def _plain(text: str) -> str:
    """``text`` with ``\\text{...}``-like groups unwrapped, for reading its words."""
    return _TEXT_GROUP.sub(lambda m: m.group(1), text)


def _final_statement(text: str) -> str | None:
    r"""The value stated by the last sentence of the last line, when that sentence is short, a statement (no
    question, hedge, plan or unfinished clause) and states one value, a list of values, or ends in ``= value``.

    >>> _final_statement("So she makes 9 * 2 = $18 every day."), _final_statement("So the total is 42 apples.")
    ('18', '42 apples')
    >>> _final_statement("We get 12 apples, then 15 apples."), _final_statement("Let me think about part (3)")
    (None, None)
    """
    masked, spans = _mask_math(text[-TAIL_CHARS:])
    lines = [line.strip() for line in masked.split("\n") if line.strip()]
    if not lines:
        return None
    line, bullet = lines[-1], _BULLET.match(lines[-1])
    if bullet:  # a list item: the last of a list of bare values is a candidate, a step is read as a sentence
        line = line[bullet.end():]
        if len(lines) > 1 and _BULLET.match(lines[-2]) and _is_formula(_unmask(line, spans)):
            return None
    pieces = [piece for piece in re.split(r"(?<=[.!?;])\s+", line) if piece.strip(" .!;*")]
    if not pieces:
        return None
    sentence = pieces[-1].strip()
    if len(sentence) > MAX_STATEMENT_CHARS or sentence.endswith("?") or sentence.rstrip(" *").endswith(":"):
        return None
    sentence = sentence.rstrip(" .!;*")
    words = _plain(_unmask(sentence, spans))
    if _HEDGE.search(words) or _PLANNING.search(_LEADING_FILLER.sub("", sentence)) or _UNFINISHED.search(sentence):
        return None
    clauses = list(_RESULT_CLAUSE.finditer(sentence))
    if clauses and _VALUE.search(sentence, clauses[-1].end()):
        sentence = sentence[clauses[-1].end():]  # "..., so she makes 18 dollars": the result clause
    body = _LEADING_FILLER.sub("", sentence).strip()
    if body and _is_formula(_unmask(body, spans)):
        return _commit_formula(_unmask(body, spans))  # "So $n = 10$.", "Thus x = 3"
    return _statement_value(sentence, spans)


def _is_formula(text: str) -> bool:
    """No words but ``or``/``and`` outside LaTeX commands: ``x = 2 or x = -2``, ``$n = 10$`` (not ``it's 9``)."""
    return all(word.lower() in ("or", "and") for word in _WORDS.findall(_COMMANDS.sub(" ", _plain(text))))


class _Value(NamedTuple):
    """One value in a sentence: where it starts and ends (with its unit words), its text, and its bare form."""

    start: int
    end: int
    text: str
    key: Answer


def _statement_value(sentence: str, spans: list[str]) -> str | None:
    """The committed value of one (masked) sentence: the one value after the last ``=`` / ``is`` / ``makes``,
    the only value, or values joined only by ``,``/``and``/``or`` (one multi-valued answer). Labels (``step 2``), approximations,
    bounds (``at least 5``) and negated values (``not 8``) are no values."""
    values, negated = [], set()
    for match in _VALUE.finditer(sentence):
        if values and match.start() < values[-1].end:
            continue  # inside the unit of the value before ("12 cm^2")
        before, after = sentence[max(0, match.start() - 40): match.start()], sentence[match.end():]
        key = normalize(_unmask(match.group(), spans))
        if _NEGATED_BEFORE.search(before) or _NEGATED_AFTER.match(after):
            negated.add(key)
        elif not (_LABEL_BEFORE.search(before) or _BOUNDED_BEFORE.search(before)):
            end = _unit_end(sentence, match.start(), match.end(), spans)
            values.append(_Value(match.start(), end, _unmask(sentence[match.start(): end], spans, bodies=True), key))
    if not values or any(value.key in negated for value in values):
        return None  # no value left, or one value both asserted and denied ("It is 15, not 15")
    marks = [m.end() for m in _RESULT_MARK.finditer(sentence)]
    if marks:
        rhs = [value for value in values if value.start >= marks[-1]]
        if (len(rhs) == 1 and _RHS_LEAD.match(sentence[marks[-1]: rhs[0].start])
                and _RHS_TAIL.match(sentence[rhs[0].end:])):
            return rhs[0].text  # "... = 72 clips in April and May", "the sum of the 10 terms is $55$"
    if len(values) == 1:
        return values[0].text
    gaps = (sentence[left.end: right.start] for left, right in zip(values, values[1:], strict=False))
    if len(values) <= MAX_VALUES and all(_CONJUNCTION_GAP.match(gap) for gap in gaps):
        return ", ".join(_distinct(value.text for value in values))
    return None


def _mask_math(text: str) -> tuple[str, list[str]]:
    r"""``text`` with each math span (``$...$``, ``$$...$$``, ``\(...\)``, ``\[...\]``, ``\begin{env}...\end{env}``)
    replaced by one private-use character, and the spans. A ``$`` that encloses prose or is followed by a digit is currency, not math.

    >>> _mask_math("costs $2 each: so $x = 5$ and $3 more")[1]
    ['$x = 5$']
    """
    text = _PLACEHOLDERS.sub(" ", text)
    spans: list[str] = []

    def hold(span: str) -> str:
        spans.append(span)
        return chr(0xE000 + len(spans) - 1)

    text = _DISPLAY_SPAN.sub(lambda m: hold(m.group()), text)
    out, last, opener = [], 0, None
    for dollar in _DOLLAR.finditer(text):
        i = dollar.start()
        if opener is None:
            opener = i
            continue
        body = text[opener + 1: i]
        if (len(body) <= MAX_SPAN_CHARS and body.strip() and not is_prose(body) and not text[i + 1: i + 2].isdigit()
                and not (body[:1].isdigit() and _WORD3.search(_COMMANDS.sub(" ", body)))):
            out.append(text[last:opener])
            out.append(hold(text[opener: i + 1]))
            last, opener = i + 1, None
        else:
            opener = i  # the earlier $ was currency; this one may open a span
    out.append(text[last:])
    return "".join(out), spans


def _unit_end(sentence: str, start: int, end: int, spans: list[str]) -> int:
    """Where a value's unit ends: up to two words after it that normalization reads as its unit or counted
    noun (``42 apples``, ``60 km/h``, ``8 cubic feet``); none when it does not (``18 every day``)."""
    stops = []
    for _ in range(2):
        word = _UNIT_WORD.match(sentence, stops[-1] if stops else end)
        if not word:
            break
        stops.append(word.end())
    bare = normalize(_unmask(sentence[start:end], spans, bodies=True)).text
    return next((stop for stop in reversed(stops)
                 if normalize(_unmask(sentence[start:stop], spans, bodies=True)).text == bare), end)


def _unmask(text: str, spans: list[str], bodies: bool = False) -> str:
    """``text`` with its placeholders put back: the spans as written, or (``bodies``) without delimiters."""
    return _PLACEHOLDERS.sub(lambda m: unwrap_math(spans[ord(m.group()) - 0xE000]) if bodies
                             else spans[ord(m.group()) - 0xE000], text)
