"""Reads the answer a completion commits to: an ``<answer>`` block, a closed box, "the answer is", ``####``, a final statement.
It must never raise, and never read an answer out of text that does not commit to one (reasoning, truncation, hedges, negations).
Whether a statement commits, and to which of its values, is the commitment model's (``commitment.py``); this module finds
where the answer may be: the answer region, its boxes, its answer phrases and its final statement."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from rewards.answers.commitment import (
    MAX_VALUES,
    NEGATED_AFTER,
    NEGATED_BEFORE,
    VALUE,
    any_hedged,
    asserted_value,
    commit_formula,
    distinct,
    doubted,
    has_hedge,
    hedged,
)
from rewards.answers.normalize import CJK, normalize, unwrap_math
from rewards.answers.spans import is_prose, mask_math, plain, unmask

__all__ = ["DEFAULT", "ExtractionConfig", "extract_answer", "gold_answer", "is_prose"]

MAX_TEXT_CHARS = 200_000
MAX_BOXES = 48  # more boxes since the last revision are a spray, not one answer
TAIL_CHARS = 3000  # the final statement is looked for in the last 3,000 characters
MAX_STATEMENT_CHARS = 240  # a longer last sentence is no short final statement
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
# "the answer is", "Answer:", and a few-shot answer line "A: 72" (the Q:/A: format of GSM8K prompts)
_PHRASE = re.compile(
    r"(?:final answer|the answer|answer|correct (?:option|choice|answer)|result)\s*(?:is|:|=|would be|will be)\s*:?\s*"
    r"|(?m:^[ \t*]*(?-i:A)[ \t]*:[ \t]*)"
    # the same phrase in the languages multilingual benchmarks ask in (zh, ja, fr, es, pt, it, de, ru)
    r"|(?:最终答案|答案)\s*(?:是|为|為|[:：])\s*|【答案】\s*|答えは\s*|(?:la |final )?(?:réponse|respuesta|resposta|risposta)"
    r"(?: finale| final)?\s*(?:est|es|é|è|[:：])\s*:?\s*|(?:die )?antwort\s*(?:ist|lautet|[:：])\s*|ответ\s*[:：—-]\s*",
    re.IGNORECASE,
)
_OPTION_LINE = re.compile(r"(?m)^[ \t*]*\(?(?-i:[B-E])\s*[:).]")  # "B: 12", "(B) 12": A: is an option, not an answer
# A few-shot completion that goes on to a new question of its own: the answer is the one before it
_NEW_QUESTION = re.compile(r"(?m)^[ \t*#]*(?:(?:Q|Question|Problem)[ \t]*\d{0,3}[ \t]*[:.]|(?:User|Human)[ \t]*:|"
                           r"You are an? [^\n]{0,40}\bassistant\b|Instruction[ \t]*:)")  # a new question or conversation
_CHOICE = re.compile(r"^(?:\(\s*([A-Ja-j])\s*\)|\(?\s*([A-J])\s*\)?)(?:[.:)]|\s*$|\s)")  # "(c)" as well as "C."
# "B is correct.", "So I choose (C)": a final statement that names an option letter and no value
_CHOICE_STATEMENT = re.compile(
    r"(?:^|\b(?:so|thus|therefore|hence)\W+)(?:(?:the\s+)?(?:option|choice|answer)\s+)?\(?(?-i:([A-J]))\)?\s+is\s+(?:the\s+)?"
    r"(?:correct|right|best)(?:\s+(?:answer|option|choice|one))?$"
    r"|(?:\bis|'s|\bchoose|\bpick|\bselect|\bgo with)\s+(?:option\s+|choice\s+)?\(?(?-i:([A-J]))\)?$", re.IGNORECASE)
# An option letter that opens an answer, after an assertion word at most: "D. ...", "for sure D, ...", "B。 ..."
_CHOICE_FIRST = re.compile(r"^[\s*]*(?:(?:for sure|surely|definitely|clearly|certainly|obviously|option|choice)\s+)?"
                           r"\(?(?-i:([A-J]))\)?[\s*]*(?:[.,:;)。，：]|$)", re.IGNORECASE)
_NEGATED_LIST = re.compile(r"(?:\bnot|n't|\bnever|\bcannot|\bneither|\bnor)\s+(?:[\w']+\s+){0,6}"
                           r"(?:(?-i:[A-J])\s*(?:,|or|nor|and)\s*)*$", re.IGNORECASE)  # "it can't be A or B": both
_OPTION_LETTER = re.compile(r"(?<![A-Za-z\\])(?-i:[A-J])(?![A-Za-z])")
# a formula is unfinished only at an operator or a conjunction (``\vec F = m\vec a`` ends in a letter, not "a")
_ENUMERATION = re.compile(r"\(\d{1,2}\)|^\s*\d{1,2}[.)]\s", re.MULTILINE)  # "(1) open door (2) sit down"
_FORMULA_UNFINISHED = re.compile(r"(?:[=+\-*/^(,:]|\b(?:and|or))\s*$")
# A closing line addressed to the reader, after the answer: it names no value and is skipped
_CLOSER = re.compile(
    r"[\s*]*(?:(?:I )?hope (?:this|that|it) helps|I hope (?:it|this|that) is (?:correct|right|helpful)|"
    r"let me know[^.!?\n]{0,80}|feel free[^.!?\n]{0,80}|"
    r"do you have (?:any )?(?:other|more|further) questions(?: or requests)?|is there anything else[^.!?\n]{0,60}|"
    r"happy to help[^.!?\n]{0,40}|(?:good luck|thanks?(?: you)?)[^.!?\n]{0,40})[\s.!?*]*"
    r"(?:(?:let me know|feel free|do you have|is there anything)[^.!?\n]{0,80}[\s.!?*]*)?", re.IGNORECASE)
_ASIDE = re.compile(r"\([^()]*\)[.!]?")
_WORDED = re.compile(r"[A-Za-z](?:[A-Za-z' -]{0,58}[A-Za-z])?")  # a few words, no value: a worded answer
_NEGATION_WORD = re.compile(r"\b(?:not|no|none|never|cannot|unknown|unclear|follows?|below|above)\b", re.IGNORECASE)
_HEADING = re.compile(r"(?:[A-Za-z]{3,}|[^\w\s$\\(\-+.,*])")  # a heading's title opens with a word or an emoji
_BOUND_BOX = re.compile(r"\\(?:geq?|leq?|geqslant|leqslant)(?![a-zA-Z])|[<>≤≥]")  # a box that holds an inequality
_LEADING_MARKER = re.compile(r"^#+[ \t]*")  # "Final answer:\n#### 14": GSM8K's marker under an answer heading
# an answer written first, then its explanation (base models after "Answer:")
_ANSWER_FIRST_CHARS = 80
_EXPLANATION_HEAD = re.compile(
    r"[*#\s]*(?:(?:step[- ]by[- ]step )?(?:explanation|solution|reasoning|rationale|justification)\s*[:：]|"
    r"let(?:'s| us) (?:look|think|solve|break|go|start|work|see|check|verify|understand)\b)", re.IGNORECASE)
_ANSWER_LABEL = re.compile(r"[ \t*#]*(?:final )?(?:answer|A)[ \t*]*[:：]", re.IGNORECASE)
_CHAIN = re.compile(r"\d\s*(?:[-+*/×x÷]|\\times|\\cdot)\s*\$?\d[^=\n]*=")  # "23 + 16 = 39": a computation
# A chat template's end-of-turn token, or a new user turn, that a generation ran past
# (the end of the model's turn, or another speaker's turn starting; "<|im_start|>answer" is the model's own section)
_TURN_END = re.compile(r"<\|(?:im_end|eot_id|end_of_text|endoftext|end|user)\|>|<end_of_turn>|</s>|"
                       r"<\|im_start\|>\s*(?:user|system)|<\|start_header_id\|>\s*(?:user|system)|<start_of_turn>\s*user")
_STRAY_TAG = re.compile(r"</?[a-z_]{1,12}>")  # "The answer is $4.</answer>": a tag is never part of an answer
# a short sentence with a verb ("Caroline is 24.") is read as a statement, not as a formula
_STATEMENT = re.compile(r"\b[A-Za-z]{2,}\s+(?:is|are|was|were|has|have|had|equals|costs?|makes)\s", re.IGNORECASE)
# A JSON answer field ({"reasoning": ..., "answer": "42"}), as prompts that ask for JSON output get it
_JSON_ANSWER = re.compile(r'"(?:final[_ ]?)?answer"\s*:\s*("(?:[^"\\\n]|\\.){0,1000}"|-?\.?\d[\d.,/eE+\-]{0,40})', re.IGNORECASE)
_LATEX_COMMAND = re.compile(r"(?<!\\)\\[a-zA-Z]{2,}")
_FILLER = re.compile(r"(?:so|thus|hence|therefore|then|answer|the|we|it|i|which|that|this)\b", re.IGNORECASE)
_LEADING_FILLER = re.compile(
    r"^[\s,;:.*]*(?:(?:so|thus|hence|therefore|then|finally|overall|altogether|in total|in conclusion|"
    r"(?:final )?answer|result)\b[\s,:*]*)+", re.IGNORECASE)
_RESULT_CLAUSE = re.compile(
    r"[,;]\s*(?:and\s+)?(?:so|thus|therefore|hence|which (?:means|gives|is|equals)|giving|making|for a total of)\b[\s,]*"
    # "therefore" in the languages multilingual benchmarks use (zh, ja, ar, hi, fr, es, pt, de, ru)
    r"|(?:因此|所以|因而|于是|故|したがって|よって|つまり|لذا|إذن|وبالتالي|इसलिए|अतः)[，,،\s]*"
    r"|\b(?:donc|ainsi|par conséquent|por lo tanto|por tanto|así que|entonces|portanto|daher|somit|deshalb|"
    r"поэтому|итак|значит)\b[,\s]*",
    re.IGNORECASE)
_BULLET = re.compile(r"^(?:[-*•+]|\d{1,2}[.)]|\(?[a-z]\))\s+")
# where the last line's sentences part: a sentence end, a display-math block (marked by a newline), or a run-on
# line's "Therefore"
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；।؟؛])|\n|\s+(?=(?:Therefore|Thus|Hence|So|In conclusion|Finally),?\s)")
_AFTER_MATH = re.compile(r"([\ue000-\uf7ff])(\s+)(?=[A-Z])")
_SENTENCE_END = re.compile(r"[.!?;](?=\s|$)|[。！？；।؟؛]")
_SENTENCE_BREAK = re.compile(r"[.?](?=\s+\S)|!(?=\s+[A-Z])|[。！？।؟](?=\s*\S)")  # "n ! }" in a formula is a factorial
_WORD3 = re.compile(r"[A-Za-z]{3,}")
_WORDS = re.compile(rf"[{CJK}]+|[^\W\d_{CJK}]{{2,}}")  # a word in any script, or a run of CJK characters
_MATHY = re.compile(r"[\d$\\]")
_COMMANDS = re.compile(r"\\[a-zA-Z]+")

# Revision vocabulary: a revision between two answers makes the later one supersede the earlier; a retraction
# after the last answer withdraws it. (Hedges, negations and bounds are roles: see commitment.py.)
_REVISION = re.compile(
    r"\b(?:wait|actually|correction|correcting|corrected|the correct (?:answer|value|result)|mistakes?|mistaken|"
    r"errors?|wrong|incorrect|oops|re-?do(?:ing)?|re-?check(?:ing|ed)?|double[- ]check(?:ing|ed)?|"
    r"re-?comput(?:e|ing|ed)|re-?calculat(?:e|ing|ed|ion)|recount(?:ing|ed)?|reconsider(?:ing)?|"
    r"re-?evaluat(?:e|ing)|re-?examin(?:e|ing)|miscalculat\w*|misread|i made an?|i forgot|i dropped|i missed|"
    r"overlooked|scratch that|let me fix|revis(?:e|ed|ing))\b",
    re.IGNORECASE)
_RETRACTION = re.compile(
    r"\b(?:(?:that|this|it|which|mine|my (?:answer|result)|something)(?:'s| is| was| went)? (?:wrong|incorrect|"
    r"not (?:right|correct)|a mistake)|i (?:was|am) wrong|(?:i )?made an? (?:error|mistake|slip)|an error in|"
    r"miscalculat\w*|scratch that|oops|let me redo|redo (?:this|that|it)|wait,? (?:no|wrong)\b)",
    re.IGNORECASE)
# A final statement is no statement when it plans or breaks off
_PLANNING = re.compile(
    r"\blet(?:'s| me| us)\b|\b(?:we|i)(?: still)? (?:need|want|have|must|should|will|can|shall) to\b|"
    r"\b(?:we|i) (?:will|should|must|shall)\b|\b(?:we|i)'ll\b|\bgoing to\b|"
    r"\bto (?:compute|find|calculate|determine|solve|check|get|show|prove)\b|"
    r"^(?:now|next|first(?:ly)?|second(?:ly)?),?\s*(?:we|i|let)\b|"
    r"^(?:consider|suppose|assume|let|if|recall|note that|notice|compute|calculate|determine|multiply|divide|add|"
    r"subtract|substitute|plug|solve|check|verify|try|find)\b",
    re.IGNORECASE)
_DISPLAY_LINE = re.compile(r"[\ue000-\uf7ff]")  # a line that is one math block
# a leading condition in words (the question's own hypothesis), then the main clause that states the result; a
# condition on a value ("If x = 3, then y = 5") is an assumption, and the sentence commits to nothing
_CONDITION = re.compile(r"^(?:if|when|once)\b[^,;:=\ue000-\uf8ff]{3,160},\s*(?=\S)", re.IGNORECASE)
_UNFINISHED = re.compile(
    r"(?:(?<=[\w,] )(?:a|an|the|of|to|in|on|at|by|for|with|from|and|or|but|so|then|than|that|which|is|are|was|be|we|"
    r"it|as|if|into|get|gives|equals|first|let|me|us|this|these|whether|where|when|while|because|since|until|"
    r"unless|about|every|both|its|their|his|her|our|my|your|not|no)\b|[=+\-*/^(,:])\s*$",
    re.IGNORECASE)


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
    >>> extract_answer(r"Since $x$ is either positive or zero, $|x| = x$, so the answer is $\boxed{4}$.")
    '4'
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
        return ", ".join(distinct(content for content, _, _ in group)) if group else None
    if is_prose(gold):  # a worked solution, or a sentence: read it like a completion
        answer = extract_answer(gold)
        if answer or "\n" in gold.strip() or len(gold) > 80:
            return answer
    return unwrap_math(gold) or None


def _extract(text: str, config: ExtractionConfig) -> str | None:
    turn_end = _TURN_END.search(text)
    if turn_end and text[: turn_end.start()].strip():
        text = text[: turn_end.start()]  # a chat template's end-of-turn token: what follows is no longer the answer
    found = _answer_region(text, config.answer_tag)
    if found is None:
        return None
    region, blocks = found
    fields = None if blocks else list(_JSON_ANSWER.finditer(region))
    if isinstance(blocks, str):  # an answer tag left open: only a closed box in it is a commitment
        boxes = [box for box in (_closed_boxes(blocks) or []) if box[0]]
        answer = _boxed_answer(blocks, boxes, config) if boxes else None
    elif blocks and doubted(region[blocks[-1][2]:]):
        return None  # "<answer>80</answer> (I am not sure, it might be 75)": the text withdraws the commitment
    elif blocks:  # several blocks since the last revision are one multi-valued answer, as boxes are
        filled = [block for block in blocks if block[0].strip()]  # an empty block is skipped, as an empty box is
        group = _since_revision(region, filled) if filled else None
        answers = [_read(content, True, config) for content, _, _ in group] if group else [None]
        answer = None if None in answers else ", ".join(distinct(answers))
    elif fields:
        answer = _json_answer(fields[-1].group(1), config)
    else:
        answer = _before_new_question(region, config) or _read(region, False, config)
    if answer is None:
        return None
    answer = answer.strip()
    return answer if 0 < len(answer) <= config.max_answer_chars else None


def _answer_region(text: str, tag: str) -> tuple[str, list[tuple[str, int, int]] | str] | None:
    """Where the committed answer may be: the text after the last ``</think>`` (else the whole text) and its
    closed ``<tag>`` blocks as (content, start, end), or, when the text ends inside an unclosed ``<tag>``, the
    text after it (a string: only a closed box there commits); ``None`` when the text ends inside ``<think>``
    or nothing follows ``</think>``."""
    think_open, think_close = text.rfind("<think>"), text.rfind("</think>")
    if think_open > think_close:
        return None  # still thinking (truncated): nothing in the reasoning is a committed answer
    if think_close >= 0:
        text = text[think_close + len("</think>"):]
        if not text.strip():
            return None  # the answer is only in the reasoning
    opening, closing = f"<{tag}>", f"</{tag}>"
    if text.rfind(opening) > text.rfind(closing):  # the model may not have finished writing the tag's content
        return text, text[text.rfind(opening) + len(opening):]
    blocks, start = [], None
    for mark in re.finditer(re.escape(opening) + "|" + re.escape(closing), text):
        if mark.group() == opening:
            start = mark.end()
        elif start is not None:
            blocks.append((text[start: mark.start()], start, mark.end()))
            start = None
    if not blocks and closing in text and opening not in text:  # "answer> 48 </answer>": a garbled opening tag
        end = text.find(closing)
        start = text.rfind(f"{tag}>", 0, end)
        start = start + len(tag) + 1 if start >= 0 else 0
        blocks.append((text[start: end], start, end + len(closing)))
    return text, blocks


def _json_answer(raw: str, config: ExtractionConfig) -> str | None:
    r"""A JSON ``"answer"`` field's value as written (a JSON string or number), read like an ``<answer>`` block.
    A string with single-backslash LaTeX commands (``"\frac{1}{2}"``, invalid or misread JSON) is taken as written.

    >>> _json_answer('"7"', DEFAULT), _json_answer('12', DEFAULT), _json_answer('"\\frac{1}{2}"', DEFAULT)
    ('7', '12', '\\frac{1}{2}')
    """
    if raw.startswith('"'):
        if _LATEX_COMMAND.search(raw):
            raw = raw[1:-1].replace('\\"', '"')
        else:
            try:
                raw = json.loads(raw)
            except ValueError:
                return None
    return _read(str(raw), True, config)


def _before_new_question(region: str, config: ExtractionConfig) -> str | None:
    """A few-shot completion that answers, then writes a new ``Q:`` / ``Question:`` of its own (as base models
    do after ``A: 72``): the answer is the one committed to before the first new question, if any."""
    for question in _NEW_QUESTION.finditer(region):
        if region[: question.start()].strip():
            return _read(region[: question.start()], False, config)
    return None


def _read(region: str, tagged: bool, config: ExtractionConfig, answer_first: bool = True) -> str | None:
    """The first reader that finds a commitment decides: boxes, an answer written first (untagged, unless
    ``answer_first`` is off: an explanation is read once, never as another answer written first), then "the answer
    is", then ``####``, then the block's own text (tagged) or a bare formula / final statement."""
    boxes = _closed_boxes(region)
    if boxes is None:
        return None  # the text ends inside a box
    filled = [box for box in boxes if box[0]]
    if filled:
        return _boxed_answer(region, filled, config)
    if boxes:
        return None  # only empty boxes: a placeholder where the answer belongs
    if not tagged and answer_first and config.final_statement and (first := _answer_first(region, config)) is not None:
        return first or None
    phrase, marker = _phrase_answer(region), _gsm8k_marker(region)
    if phrase is not None and (marker is None or marker[1] < phrase[1]):  # the later commitment wins
        answer, end = phrase
        worked = _worked_answer(region, end, config)
        return worked or _unless_retracted(answer, region[end:], config)
    if marker is not None:
        return commit_formula(marker[0])
    content = region.strip()
    if tagged:
        if not content:
            return None
        if ((not is_prose(content) and not _SENTENCE_BREAK.search(content) and not _STATEMENT.search(content))
                or not _MATHY.search(_ENUMERATION.sub("", content))):
            return commit_formula(content)  # a formula, or a worded answer ("does not exist")
        return _final_statement(content)  # a sentence: "The total is 42 apples.", "Caroline is 24."
    if _looks_bare(content):
        return commit_formula(content)
    if not config.final_statement:
        return None
    stated = _final_statement(region)
    choice = _CHOICE_FIRST.match(content) if stated is None else None
    if choice and _rejects_only(content[choice.end():]):
        return choice.group(1)  # an option letter first, then only why the others are wrong: "D. it can't be A"
    return stated


def _answer_first(region: str, config: ExtractionConfig) -> str | None:
    r"""A short first line that states the answer, then an explanation (``Explanation:``, ``Solution:``, ``Let's
    look at ...``), as base models prompted with ``Answer:`` write: the first line's value, ``""`` (no answer) when
    the explanation concludes with another value (a contradiction), ``None`` when the text is not of that form.

    >>> _answer_first("$5\nExplanation: 20 divided by 4 is 5. Each sibling got $5.", DEFAULT)
    '$5'
    >>> _answer_first("5\nExplanation: 40 - 25 = 15 more petals", DEFAULT), _answer_first("So 5.", DEFAULT)
    ('', None)
    """
    first, _, rest = region.strip().partition("\n")
    if len(first) > _ANSWER_FIRST_CHARS or not _EXPLANATION_HEAD.match(rest.lstrip()):
        return None
    first = first.strip(" *")
    answer = commit_formula(first) if _looks_bare(first) else _final_statement(first)
    if answer is None:
        return None
    concluded = _read(rest, False, config, answer_first=False)
    if concluded is not None and normalize(concluded).text != normalize(answer).text:
        return ""  # "250 pounds / Explanation: ... is 623 pounds": two final answers
    return answer


def _worked_answer(region: str, end: int, config: ExtractionConfig) -> str | None:
    """``Answer: 23 + 16 = 39 minutes`` followed by more lines of work: the answer line opens a worked solution,
    whose final statement is the answer (``None`` when the line is a value, or the work states nothing)."""
    line = region[max(0, end - 200): end].rpartition("\n")[2]
    after = region[end:].lstrip(" .\t")
    if not (after.startswith("\n") and after.strip() and _ANSWER_LABEL.match(line) and _CHAIN.search(line)):
        return None
    return _final_statement(region[end:]) if config.final_statement else None


def _unless_retracted(answer: str | None, tail: str, config: ExtractionConfig) -> str | None:
    """An answer followed by a rejection ("Wait, that's wrong") is retracted: what the text states after the
    rejection is the answer, if it states one."""
    rejections = list(_RETRACTION.finditer(tail))
    if not rejections:
        return answer
    return _final_statement(tail[rejections[-1].end():]) if config.final_statement else None


def _boxed_answer(region: str, boxes: list[tuple[str, int, int]], config: ExtractionConfig) -> str | None:
    r"""The boxes since the last revision, joined as one answer: a later box after "wait / actually / I made an
    error" supersedes the earlier ones; several unretracted boxes are one multi-valued answer. A box a hedge
    qualifies (``probably \boxed{7}``, ``either \boxed{3} or \boxed{4}``) voids the answer.

    >>> _boxed_answer(r"\boxed{3} or \boxed{4}", _closed_boxes(r"\boxed{3} or \boxed{4}"), DEFAULT)
    '3, 4'
    """
    group = _since_revision(region, boxes)
    if group is None:
        return None
    group = _unnegated(region, group)
    if not group:
        return None
    if not _BOUND_BOX.search(group[-1][0]):  # "\boxed{N \ge 4302}" ... "\boxed{4302}": a bound shown on the way
        group = [box for box in group if not _BOUND_BOX.search(box[0])]
    sentence, offset = _sentence_around(region, group[0][1], group[-1][2])
    for _, start, end in group:  # each box becomes one placeholder-like mark the hedge rules can see
        sentence = sentence[: start - offset] + "\ue000" + " " * (end - start - 1) + sentence[end - offset:]
    if any(hedged(sentence, start - offset, end - offset) for _, start, end in group):
        return None
    committed = [commit_formula(content) for content, _, _ in group]
    if any(answer is None for answer in committed):
        return None
    values = distinct(committed)
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
        if NEGATED_BEFORE.search(region[max(0, start - 40): start]) or NEGATED_AFTER.match(region[end:]):
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
        if _REVISION.search(gap) and not has_hedge(gap) and normalize(box[0]) != normalize(group[-1][0]):
            break
        group.append(box)
        if len(group) > MAX_BOXES:
            return None
    return group[::-1]


def _sentence_around(text: str, start: int, end: int) -> tuple[str, int]:
    """The sentence (or line) that contains ``text[start:end]``, and where it starts in ``text``."""
    before = text[max(0, start - 300): start]
    cut = max(before.rfind("\n"), max((m.end() for m in _SENTENCE_END.finditer(before)), default=-1))
    after = text[end: end + 300]
    stop = _SENTENCE_END.search(after)
    line_end = after.find("\n")
    stops = [i for i in (stop.end() if stop else -1, line_end) if i >= 0]
    head = before[cut + 1 if cut >= 0 else 0:]
    return head + text[start:end] + after[: min(stops) if stops else len(after)], start - len(head)


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
    """What follows the last "the answer is" / "Answer:" / few-shot ``A:`` line, up to the end of that sentence
    or line, and where it ends; ``None`` when there is no such phrase or it commits to nothing (a question, a
    hedge that qualifies the value, a negation). ``A:`` that opens a list of options (``B: ...`` follows) is none."""
    matches = []
    for start in (max(0, len(region) - TAIL_CHARS), 0):  # the last phrase is in the tail whenever the tail has one
        matches = [m for m in _PHRASE.finditer(region, start)
                   if not (m.group().strip(" \t*:").strip() == "A" and _OPTION_LINE.search(region))
                   and not (m.group()[:6].lower() == "result" and not _MATHY.search(region, m.end(), m.end() + 80))]
        if matches or start == 0:
            break
    if not matches:
        return None
    match = matches[-1]
    masked, spans = mask_math(region[match.end(): match.end() + PHRASE_CHARS])
    lead = len(masked) - len(masked.lstrip(" \t\n*:"))
    stop = re.search(r"\n|[.!](?=\s|$)|[?？]|[。！]", masked[lead:])
    cut = lead + (stop.start() if stop else len(masked) - lead)
    rest = _STRAY_TAG.sub("", _LEADING_MARKER.sub("", masked[lead:cut])).strip().strip("*").strip()
    if not rest or (stop and stop.group() in "?？"):
        return None
    value_start = match.end() + len(unmask(masked[:lead], spans))
    end = match.end() + len(unmask(masked[:cut], spans))
    sentence, offset = _sentence_around(region, match.start(), end)
    if hedged(sentence, value_start - offset, end - offset):
        return None  # "Maybe the answer is 7", "the answer is 7, but I'm not sure"
    choice = _CHOICE.match(rest)
    if choice and (len(rest) <= 4 or rest[:3].startswith("(")):
        worded = rest[choice.end():].strip(" .")
        if _WORDED.fullmatch(worded) and not any_hedged(worded):
            return rest.rstrip(" ."), end  # "(B) no": the letter and its option text (pairing reads either)
        return choice.group(1) or choice.group(2), end
    choice = _CHOICE_FIRST.match(rest)
    if choice and not any_hedged(rest) and _rejects_only(rest[choice.end():]):
        return choice.group(1), end  # "for sure D, it can't be A or B"
    text = unmask(rest, spans)
    answer = commit_formula(text) if not is_prose(text) else asserted_value(rest, spans)
    if answer is None and _WORDED.fullmatch(rest) and not any_hedged(rest) and not _NEGATION_WORD.search(rest):
        answer = rest  # "The answer is buying a used phone": a worded answer
    return (answer, end) if answer else None


def _rejects_only(text: str) -> bool:
    """``text`` names no value and no option letter except to reject it (``it can't be A or B``, ``不是 A``), and
    revises nothing (``Wait, no, that's wrong.``)."""
    masked, _ = mask_math(text)
    if VALUE.search(masked) or _REVISION.search(masked) or _RETRACTION.search(masked) or has_hedge(masked):
        return False
    for letter in _OPTION_LETTER.finditer(masked):
        before = masked[max(0, letter.start() - 40): letter.start()]
        if not (_NEGATED_LIST.search(before) or re.search(r"(?:不是|不|非)\s*$", before)):
            return False
    return True


def _gsm8k_marker(text: str) -> tuple[str, int] | None:
    """What follows the last ``####`` on its line (GSM8K's answer marker), if anything does, and where it is."""
    at = text.rfind("####")
    if at < 0:
        return None
    value = text[at + 4:].strip().split("\n", 1)[0].strip()
    return (value, at) if value and not _HEADING.match(value) else None  # "#### Part 2: Tax" is a markdown heading


def _looks_bare(text: str) -> bool:
    """A short one-line text that is no sentence is itself the answer (``x^2-1=0``, ``\\frac{1}{2}``, ``Tuesday``);
    an equation followed by words (``9 * 2 = $18 every day.``) is a statement, and a phrase of words without
    any math (``no answer``) is no formula."""
    words = [word for word in _WORDS.findall(text) if word.lower() not in ("or", "and")]
    return (0 < len(text) <= 120 and "\n" not in text and not is_prose(text) and not _FILLER.match(text)
            and (len(words) < 2 or _MATHY.search(text) is not None)
            and not _SENTENCE_BREAK.search(text)
            and not _PLANNING.search(text)
            and not (_FORMULA_UNFINISHED if _is_formula(text) else _UNFINISHED).search(text)
            and not ("=" in text and _WORD3.search(_COMMANDS.sub(" ", plain(text)))))


def _final_statement(text: str) -> str | None:
    r"""The value stated by the last sentence of the last line, when that sentence is short, a statement (no
    question, plan or unfinished clause) and commits (``commitment.asserted_value``) to one value, a list of
    values, or ``= value``.

    >>> _final_statement("So she makes 9 * 2 = $18 every day."), _final_statement("So the total is 42 apples.")
    ('18', '42 apples')
    >>> _final_statement("We get 12 apples, then 15 apples."), _final_statement("Let me think about part (3)")
    (None, None)
    """
    masked, spans = mask_math(text[-TAIL_CHARS:])
    lines = [line.strip() for line in masked.split("\n") if line.strip()]
    while lines and _CLOSER.fullmatch(lines[-1]):
        lines.pop()  # "Let me know if you have other questions.": addressed to the reader, it states nothing
    if len(lines) >= 3 and lines[-1][:1].islower() and _DISPLAY_LINE.fullmatch(lines[-2]):
        lines[-3:] = [" ".join(lines[-3:])]  # "They spent:\n\[ 60 \]\non the picnic.": one sentence around a display
    if not lines:
        return None
    line, bullet = lines[-1], _BULLET.match(lines[-1])
    if bullet:  # a list item: the last of a list of bare values is a candidate, a step is read as a sentence
        line = line[bullet.end():]
        if len(lines) > 1 and _BULLET.match(lines[-2]) and _is_formula(unmask(line, spans)):
            return None
    line = _AFTER_MATH.sub(lambda m: m.group(1) + ("\n" if spans[ord(m.group(1)) - 0xE000].startswith(
        ("$$", "\\[", "\\begin")) else m.group(2)), line)  # display math ends a sentence: mark the cut with \n
    pieces = [piece for piece in _SENTENCE_SPLIT.split(line) if piece.strip(" .!;*。！；।")]
    while len(pieces) > 1 and (_ASIDE.fullmatch(pieces[-1].strip()) or _CLOSER.fullmatch(pieces[-1])) \
            and not VALUE.search(pieces[-1]):
        pieces.pop()  # "(Note: this is the final answer.)", "I hope it is correct.": no statement of a value
    if not pieces:
        return None
    sentence = pieces[-1].strip()
    if len(sentence) > MAX_STATEMENT_CHARS or sentence.endswith(("?", "？")) or sentence.rstrip(" *").endswith((":", "：")):
        return None
    sentence = sentence.rstrip(" .!;*。！；।")
    condition = _CONDITION.match(sentence)
    if condition and VALUE.search(sentence, condition.end()):
        sentence = sentence[condition.end():]  # "If he trained for a month, he would have run 180,000 meters"
    clauses = list(_RESULT_CLAUSE.finditer(sentence))
    result = clauses[-1].end() if clauses else None  # where the last result clause starts its result
    if result is not None and VALUE.search(sentence, result) and not _UNFINISHED.search(sentence):
        # "..., so she makes 18 dollars", "To find A + B, we add 9 and 7, which equals 16": the result clause alone
        # (a plan before it still reached a result)
        sentence, result = sentence[result:], None
    if _PLANNING.search(_LEADING_FILLER.sub("", sentence)) or _UNFINISHED.search(sentence):
        return None
    option = _CHOICE_STATEMENT.search("is " + sentence[result:]) if result is not None else None
    if option and not hedged(sentence, 0, len(sentence)):
        return option.group(1) or option.group(2)  # "... is 7!, which is option (C)"
    choice = _CHOICE_STATEMENT.search(sentence)
    if choice and not VALUE.search(sentence) and not hedged(sentence, choice.start(), len(sentence)):
        return choice.group(1) or choice.group(2)
    body = _LEADING_FILLER.sub("", sentence).strip()
    if body and _is_formula(unmask(body, spans)):
        if hedged(sentence, len(sentence) - len(body), len(sentence)):
            return None  # "Perhaps $x = 4$."
        return commit_formula(unmask(body, spans))  # "So $n = 10$.", "Thus x = 3"
    return asserted_value(sentence, spans)


def _is_formula(text: str) -> bool:
    """No words but ``or``/``and`` outside LaTeX commands: ``x = 2 or x = -2``, ``$n = 10$`` (not ``it's 9``)."""
    return all(word.lower() in ("or", "and") for word in _WORDS.findall(_COMMANDS.sub(" ", plain(text))))
