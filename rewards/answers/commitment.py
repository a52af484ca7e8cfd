r"""The commitment model: which candidate values a statement names, and the role each one plays.

A *statement* is one sentence (or one box, tag body or "the answer is ..." tail) with its math spans masked to
placeholders (``spans.mask_math``). Its *candidates* are the values it names: math spans, boxes and plain
numbers. Each candidate plays exactly one role, decided by the words next to it, never by a word elsewhere in
the sentence:

============  ==========================================  ==============================================
role          what it is                                  examples (the candidate in question is 7)
============  ==========================================  ==============================================
asserted      the value the statement gives as its result ``so the answer is \boxed{7}``, ``3 + 4 = 7``
rejected      named to be denied                          ``It is 9, not 7``, ``x \ne 7``, ``7 is wrong``
alternative   offered beside another candidate, or under  ``either 6 or 7``, ``maybe 7``, ``7, probably``,
              a hedge that governs it                     ``it could be 7``, ``Is it 7?``
intermediate  a step toward the result                    ``7 + 5 = 12``, ``We get 7 apples, then 12``
context       a quantity of the problem, restated in a    ``91 trees left after 7 years``,
              phrase beside the result                    ``$4 more than 7 bagels``
bound         a limit, or a decimal of the value before   ``at least 7``, ``between 7 and 9``, ``1/6 ≈ 0.17``
label         names a step, a part or a case              ``step 7``, ``part (7)``, ``case 7``
============  ==========================================  ==============================================

A statement **commits** when it asserts one value, or one list of values joined by ``,``/``and``/``or``, and none
of its asserted values is also rejected or an alternative. A hedge voids only what it qualifies (``hedged``):

- a hedge adverb or modal (``maybe``, ``probably``, ``possibly``, ``could be``, ``most likely`` ...) governs the
  candidates after it up to the end of its clause (a comma, ``;``, ``so``, ``which`` ...), and the candidate
  right before it (``7, probably``). ``The most likely outcome is heads, with probability \boxed{1/2}``,
  ``Since x might be 0, we check both cases, and the answer is 4`` and ``Perhaps surprisingly, it is 0`` commit;
- ``either ... or`` makes alternatives of the candidates it joins (``either 6 or 7``), never of others
  (``x is either positive or zero, so the answer is 4`` commits to 4);
- ``between X and Y`` makes X and Y bounds (``It lies between 3 and 5, and it is exactly 4`` commits to 4);
- doubt about the speaker's own answer (``I'm not sure``, ``my guess``, ``alternatively``) and a question mark
  qualify the whole sentence.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import NamedTuple

from rewards.answers.normalize import Answer, normalize, unwrap_math
from rewards.answers.spans import PLACEHOLDER, plain, unmask

MAX_VALUES = 12  # distinct values joined into one multi-valued answer at most


class Role(str, Enum):
    ASSERTED = "asserted"
    REJECTED = "rejected"
    ALTERNATIVE = "alternative"
    INTERMEDIATE = "intermediate"
    CONTEXT = "context"
    BOUND = "bound"
    LABEL = "label"


class Candidate(NamedTuple):
    """One value of a statement: where it starts and ends (with its unit words), its text, its bare form, its role."""

    start: int
    end: int
    text: str
    key: Answer
    role: Role


# ASCII word boundaries, so that a number beside CJK text ("有5页", "3页") is still a number
# a number ends at a non-word character, or where a unit is glued to it ("1,000.99m²", "5cm", "3kg"), never inside
# a decimal ("6" of "6.02e23"); it may carry a power of ten ("6.02e23", "1.5e-3")
_NUMBER_END = (r"(?!\.\d)(?:(?![A-Za-z0-9_])|(?=(?:cm|mm|km|kg|mg|ml|mL|m|g|L|s|h|min|ft)(?:²|³|\^\{?[23]\}?)?"
               r"(?![A-Za-z0-9_])))")
_PLAIN_NUMBER = (r"(?<![A-Za-z0-9_.\\])(?:-?\d+\s+\d+/\d+(?![A-Za-z0-9_/])|-?(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:[\u2009\u202f\u00a0]\d{3})+|\d+)"
                 r"(?:\.\d+)?(?:[eE][-+]?\d+)?(?:/\d+)?" + _NUMBER_END + r"|-?\.\d+(?![A-Za-z0-9_]))(?:\s?\\?%)?")
# LaTeX written outside math delimiters ("每份应该是 (\frac{2}{5}) 吨")
_LATEX_VALUE = r"-?\\[dt]?frac\{[^{}]{1,30}\}\{[^{}]{1,30}\}|-?\d*\\sqrt\{[^{}]{1,30}\}|-?\d*√\d+(?:\.\d+)?"
# a tuple written in prose ("(3, π/2)", "(2,4)"): one value
_TUPLE_VALUE = r"\(\s*-?[\d.√π/]+\s*(?:,\s*-?[\d.√π/]+\s*){1,3}\)"
VALUE = re.compile(PLACEHOLDER + "|" + _TUPLE_VALUE + "|" + _PLAIN_NUMBER + "|" + _LATEX_VALUE)
_CHOICE_LETTER = r"(?-i:\b[A-J]\b)"
_CANDIDATE = re.compile(PLACEHOLDER + "|" + _PLAIN_NUMBER + "|" + _CHOICE_LETTER)

# ---- hedges: what qualifies a candidate ----------------------------------------------------------------------
_DOUBT = re.compile(
    r"\b(?:not (?:sure|certain|confident)|unsure|uncertain|i(?:'d| would)? guess|(?:my|best|a|wild|educated) guess|"
    r"guessing|alternatively|no idea)\b", re.IGNORECASE)
_SCOPED_HEDGE = re.compile(
    r"\b(?:maybe|perhaps|possibly|probably|presumably|conceivably|(?:most |more )?likely|"
    r"(?:could|might|may)(?: also| well| possibly| perhaps)? (?:be|equal|have been)|or so)\b", re.IGNORECASE)
_MODAL = re.compile(r"(?:could|might|may)\b", re.IGNORECASE)  # a modal's scope ends at the next verb of result
_ADJECTIVE_BEFORE = re.compile(r"\b(?:the|a|an|its|their|is the)\s+(?:most\s+|more\s+|less\s+)?$", re.IGNORECASE)
_ADVERB_AFTER = re.compile(r"\s+(?!(?:probab|possib|likel|approximate|rough|near)ly\b)[a-z]{3,}ly\b\s*,", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(
    r"[;:；，](?!\d)|,(?!\d{3})|\s[-\u2013\u2014]\s|\b(?:so|thus|hence|therefore|then|because|since|but|which|whereas|while|"
    r"giving|gives|yielding|shows?|showing|meaning|means|where|when|once|after|before)\b", re.IGNORECASE)
_EITHER = re.compile(r"\beither\b", re.IGNORECASE)
_OR = re.compile(r"\bor\b", re.IGNORECASE)
_TRAILING_GAP = re.compile(r"[\s,()*$]*")

# ---- roles of single candidates ----------------------------------------------------------------------------
_VALUE_ATOM = (r"(?:-?\d|-?\.\d|\\(?:frac|dfrac|tfrac|sqrt|pi|infty)|\(\s*[A-Ja-j]\s*\)|(?-i:[A-J])(?![A-Za-z])|\$|"
               + PLACEHOLDER + ")")
_NEGATION = re.compile(
    r"(?:\bnot|n't|\bnever|\bcannot|\brather than|\binstead of|\bother than|\bexcept)\s+"
    r"(?:(?:be|equal|equals|to|exactly|the|answer|is)\s+)*[(\s]*" + _VALUE_ATOM, re.IGNORECASE)
NEGATED_BEFORE = re.compile(
    r"(?:(?:\bnot|n't|\bnever|\bcannot|\brather than|\binstead of|\bother than|\bexcept|\bnor)\s+"
    r"(?:(?:be|equal|equals|to|exactly|the|answer|is|of)\s+)*|\\neq?\s*|≠\s*|!=\s*)[(\s$*]*$",
    re.IGNORECASE)
NEGATED_AFTER = re.compile(
    r"^[\s$*)]*(?:(?:(?:is|was|are|would be|'s)\s+)?(?:not|wrong|incorrect|false|impossible)\b|"
    r"(?:isn't|wasn't|aren't|can't|cannot)\b)",
    re.IGNORECASE)
_BOUNDED_BEFORE = re.compile(
    r"(?:\bat (?:least|most)|\bno (?:more|less|fewer) than|\b(?:more|less|fewer|greater|smaller) than|\bup to|"
    r"\bover|\bunder|\bbelow|\babove|\bnearly|\balmost|\bclose to|\bbetween)\s*[$\s]*$",
    re.IGNORECASE)
# an approximation sign right after a value: what follows is that value's decimal, not another value
_APPROXIMATES = re.compile(r"[\s$)]*\(?\s*(?:≈|\\approx|~|approximately|approx\.?|about|roughly|around)\s*[$\s]*",
                           re.IGNORECASE)
_BETWEEN_SECOND = re.compile(r"\bbetween\s+[$(\s]*(?:" + VALUE.pattern + r")[)$\s]*\s+and\s*[$\s]*$", re.IGNORECASE)
# a value inside a prepositional or infinitive phrase ("after 10 years", "to string all 12 racquets", "than 2
# bagels") restates the problem; it is the answer only when the statement names no other value
_CONTEXT_BEFORE = re.compile(
    r"\b(?:after|before|in|for|of|than|with|from|within|during|among|at|on|by|per|each|every|d'ici|après|avant|"
    r"pendant|dans|pour|durante|después de|antes de|para|cada|nach|vor|für|innerhalb|"
    r"to\s+[a-z]{2,}(?:\s+[a-z]{2,})?)\s+(?:(?:all|the|a|an|his|her|their|its|my|our|your|these|those)\s+)?[$(\s]*$",
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
_OPTION_LABEL = re.compile(r"\(?[A-J]\)?[.:]?")
_LEADING_NE = re.compile(r"^(?:\\neq?(?![a-zA-Z])|≠|!=)")
_BOUND = re.compile(r"\b(?:at (?:least|most)|no (?:more|less|fewer) than|(?:more|less|fewer|greater|smaller) than|"
                    r"up to)\s+" + _VALUE_ATOM + r"|^(?:nearly|almost)\b", re.IGNORECASE)
_REJECTION = re.compile(r"\b(?:wrong|incorrect|mistaken|mistake|not (?:right|correct))\b", re.IGNORECASE)

# ---- which of a statement's values is its result -----------------------------------------------------------
_UNIT_STOP = (r"(?:a|an|the|of|to|in|on|at|by|for|with|from|and|or|but|so|then|than|that|which|who|is|are|was|were|"
              r"be|been|each|every|per|left|total|altogether|remaining|more|less|now|today|this|these|those|it|he|"
              r"she|they|we|i|you|not|as|if|when|after|before|because|since|while|all|both|only|also|here|there|"
              r"surely|indeed|exactly|instead|rather)\b")
_UNIT_WORD = re.compile(
    r"[ \t]+(?!" + _UNIT_STOP + r")(?:[A-Za-z]{1,20}(?:[ \t]+per[ \t]+[A-Za-z]{1,12}|/[A-Za-z]{1,10}|\^\{?\d\}?)?(?![\w/])"
    r"|\\text\{[^{}]{1,30}\})",
    re.IGNORECASE)
# "x = value", "the total is value": the last such mark before a single value makes that value the result
_RESULT_MARK = re.compile(
    r"(?<![<>!=\\])=(?!=)|\b(?:is|are|was|were|equals|becomes|gives|makes|yields|comes to|costs?|takes?|took|has|have|"
    r"had|got|gets|receives?|received|earns?|earned|pays?|paid|spends?|spent|needs?|needed|totals?|totaled|sold|weighs|remains?|will be|"
    r"est|es|ist|é|è|равно|равен|равна|هو|هي)\b|是|为|為|等于|है|हैं", re.IGNORECASE)
_RHS_LEAD = re.compile(r"^[\s$*\\]*(?:[A-Za-z]+[\s$*]+){0,2}$")
_CONJUNCTION_GAP = re.compile(r"^[\s,;$]*(?:and|or|&|\\text\{\s*(?:and|or)\s*\})?[\s,$]*$", re.IGNORECASE)
_RHS_TAIL = re.compile(r"^[^,;:=]{0,80}$")
_BOLD_BEFORE = re.compile(r"\*\*[\s$]*\Z")
_BOLD_AFTER = re.compile(r"[^*\n]{0,12}?\*\*")


def hedged(statement: str, start: int, end: int) -> bool:
    r"""Whether a hedge in ``statement`` qualifies the candidate at ``statement[start:end]`` (see the module's
    rules): doubt or a question anywhere in the sentence, a hedge that governs it, or ``either ... or`` around it.

    >>> s = "Since x is either positive or zero, |x| = x, so the answer is 4."
    >>> hedged(s, s.index("4"), s.index("4") + 1)
    False
    >>> s = "It is either 3 or 4."
    >>> hedged(s, s.index("4"), s.index("4") + 1), hedged("It is probably 7", 15, 16), hedged("7, maybe", 0, 1)
    (True, True, True)
    """
    if statement.rstrip(" .*$)").endswith("?") or _DOUBT.search(statement):
        return True
    for hedge in _SCOPED_HEDGE.finditer(statement):
        if _ADJECTIVE_BEFORE.search(statement[max(0, hedge.start() - 20): hedge.start()]) and \
                re.match(r"\s+[a-z]", statement[hedge.end():]) and hedge.group().lower().endswith("likely"):
            continue  # "the most likely outcome": an adjective naming a quantity, not a hedge
        if _ADVERB_AFTER.match(statement, hedge.end()):
            continue  # "Perhaps surprisingly, ...": the hedge qualifies the adverb
        scope = hedge.end() + len(re.match(r"\s*,?", statement[hedge.end():]).group())  # "Maybe, 7"
        brk = _CLAUSE_BREAK.search(statement, scope)
        stop = brk.start() if brk else len(statement)
        if _MODAL.match(hedge.group()) and not re.match(r"\s*that\b", statement[scope:]):
            verb = _RESULT_MARK.search(statement, scope, stop)  # "the points that could be in D is 19": the modal
            stop = verb.start() if verb else stop  # belongs to a relative clause; the result comes after "is"
        if scope <= start < stop:
            return True
        if hedge.start() >= end and _TRAILING_GAP.fullmatch(statement, end, hedge.start()):
            return True  # "7, probably"
    for either in _EITHER.finditer(statement):
        join = _OR.search(statement, either.end(), either.end() + 160)
        if not join or not _CANDIDATE.search(statement, either.end(), join.start()):
            continue
        brk = _CLAUSE_BREAK.search(statement, join.end())
        stop = brk.start() if brk else len(statement)
        if _CANDIDATE.search(statement, join.end(), stop) and either.end() <= start < stop:
            return True
    return False


def any_hedged(statement: str) -> bool:
    """Whether any candidate of ``statement`` is qualified by a hedge (a box's or a tag's own text).

    >>> any_hedged("maybe 7"), any_hedged("9, surely"), any_hedged(r"6 \\text{ or } 7")
    (True, False, False)
    """
    return any(hedged(statement, m.start(), m.end()) for m in _CANDIDATE.finditer(statement)) or \
        statement.rstrip(" .*$)").endswith("?")


def doubted(text: str) -> bool:
    """Doubt about the answer, or a hedged alternative value, in text after a committed block (``(I am not sure,
    it might be 75)``); a remark that names no alternative and no doubt (``Hope this helps!``) is none.

    >>> doubted(" (I am not sure, it might be 75)"), doubted(" Done."), doubted(" Maybe 7?")
    (True, False, True)
    """
    return bool(_DOUBT.search(text)) or any_hedged(text[:2000])


def has_hedge(text: str) -> bool:
    """Any hedge word at all (a revision written with one, ``Wait, maybe 6``, revises nothing)."""
    return bool(_DOUBT.search(text) or _SCOPED_HEDGE.search(text) or "?" in text)


def commit_formula(text: str) -> str | None:
    r"""A formula-like answer (a box, a tag, what follows "the answer is") if it commits to a value: no hedge
    that qualifies a value, no question, no bound, no negated value; a rejected alternative (``9 (not 8)``) and a
    trailing assertion word (``9, surely``) are dropped. A relation with a left side (``x \ne 3``) stays one.

    >>> commit_formula("9 (not 8)"), commit_formula("9, surely"), commit_formula("not 15"), commit_formula("7?")
    ('9', '9', None, None)
    """
    text = _unwrap_whole(text)
    words = plain(text)
    if (not text or any_hedged(words) or _LEADING_NE.match(words) or _BOUND.search(words)
            or _REJECTION.search(words)):
        return None
    if _NEGATION.search(words):
        rejected = [normalize(m.group(1)) for m in _REJECTED_CLAUSE.finditer(words)]
        text = re.sub(r"^(?:but|it is|it's)\s+", "", _REJECTED_CLAUSE.sub("", words).strip(" ,;"), flags=re.I)
        if not re.search(r"[\w\\]", text) or _NEGATION.search(text) or normalize(text) in rejected:
            return None
    head, tail = text[:-60], text[-60:]  # the assertion word is at the very end: a bounded look
    stripped = (head + _ASSERTION_TAIL.sub("", tail)).strip()
    return text if not stripped or _OPTION_LABEL.fullmatch(stripped) else stripped  # "(A) yes" is an option's text


def candidates(sentence: str, spans: list[str]) -> list[Candidate]:
    """The values of one masked sentence with their roles as the words beside each decide them: every value that is
    not rejected, a bound, a label or context is provisionally asserted (``statement`` decides which is the result)."""
    found: list[Candidate] = []
    for match in VALUE.finditer(sentence):
        if found and match.start() < found[-1].end:
            continue  # inside the unit of the value before ("12 cm^2")
        before, after = sentence[max(0, match.start() - 60): match.start()], sentence[match.end():]
        key = normalize(unmask(match.group(), spans))
        if NEGATED_BEFORE.search(before[-40:]) or NEGATED_AFTER.match(after):
            role = Role.REJECTED
        elif _LABEL_BEFORE.search(before[-40:]):
            role = Role.LABEL
        elif (_BOUNDED_BEFORE.search(before[-40:]) or _BETWEEN_SECOND.search(before)
              or (found and _APPROXIMATES.fullmatch(sentence, found[-1].end, match.start()))):
            role = Role.BOUND  # "at least 5", "between 3 and 5", the decimal of the value before ("1/6 ≈ 0.1667")
        elif found and _CONTEXT_BEFORE.search(before[-40:]):
            role = Role.CONTEXT
        else:
            role = Role.ASSERTED
        end = _unit_end(sentence, match.start(), match.end(), spans) if role in _VALUES else match.end()
        found.append(Candidate(match.start(), end, unmask(sentence[match.start(): end], spans, bodies=True), key, role))
    return found


def statement(sentence: str, spans: list[str]) -> list[Candidate]:
    """Every value of one masked sentence with its final role: the result the statement gives (``asserted``: the one
    value after the last ``=`` / ``is`` / ``makes``, the only value, the one bold value, or values joined only by
    ``,``/``and``/``or``), the other values ``intermediate`` (or ``context``), and every result ``alternative`` when
    a hedge qualifies one of them. No value is asserted when one is both asserted and rejected or the values are a
    narrative with no one result.

    >>> [(c.text, c.role.value) for c in statement("Natalia sold 48 + 24 = 72 clips", [])]
    [('48', 'intermediate'), ('24', 'intermediate'), ('72 clips', 'asserted')]
    >>> [c.role.value for c in statement("It might be 6 or 7", [])]
    ['alternative', 'alternative']
    """
    found = candidates(sentence, [*spans])
    chosen = _result(sentence, found)
    voided = any(hedged(sentence, value.start, value.end) for value in chosen)
    result = Role.ALTERNATIVE if voided else Role.ASSERTED
    return [c._replace(role=result if c in chosen else Role.INTERMEDIATE if c.role is Role.ASSERTED else c.role)
            for c in found]


def asserted_value(sentence: str, spans: list[str]) -> str | None:
    """The committed value of one masked sentence (``statement``'s asserted values, joined), or ``None``.

    >>> asserted_value("It is 9, not 8", []), asserted_value("We get 12 apples, then 15 apples", [])
    ('9', None)
    >>> asserted_value("It lies between 3 and 5, and it is exactly 4", [])
    '4'
    """
    asserted = [c.text for c in statement(sentence, spans) if c.role is Role.ASSERTED]
    return ", ".join(distinct(asserted)) if asserted else None


def _result(sentence: str, found: list[Candidate]) -> list[Candidate]:
    """The candidates ``found`` that are the statement's result, before hedges (see ``statement``); ``[]`` for none."""
    values = [c for c in found if c.role is Role.ASSERTED]
    if len(values) > 1 and any(c.role is Role.CONTEXT for c in found):
        values = [c for c in found if c.role in _VALUES]  # two asserted values: the phrases decide nothing
    rejected = {c.key for c in found if c.role is Role.REJECTED}
    if not values or any(value.key in rejected for value in values):
        return []  # no value left, or one value both asserted and denied ("It is 15, not 15")
    marks = [m.end() for m in _RESULT_MARK.finditer(sentence)]
    if marks:
        rhs = [value for value in values if value.start >= marks[-1]]
        if (len(rhs) == 1 and _RHS_LEAD.match(sentence[marks[-1]: rhs[0].start])
                and _RHS_TAIL.match(sentence[rhs[0].end:])):
            return rhs  # "... = 72 clips in April and May", "the sum of the 10 terms is $55$"
    if len(values) == 1:
        return values
    bold = [value for value in values if _BOLD_BEFORE.search(sentence, 0, value.start) and
            _BOLD_AFTER.match(sentence, value.end)]
    if len(bold) == 1:
        return bold  # "... 79 * 2 - 66 هو **92**": a chat model marks its result in bold
    gaps = (sentence[left.end: right.start] for left, right in zip(values, values[1:], strict=False))
    if len(values) > MAX_VALUES or not all(_CONJUNCTION_GAP.match(gap) for gap in gaps):
        return []  # a narrative of several values with no one result
    return values


_VALUES = (Role.ASSERTED, Role.CONTEXT)


def distinct(answers) -> list[str]:
    """Answers in order, each once (two spellings that normalize alike count once)."""
    seen, kept = set(), []
    for answer in answers:
        key = normalize(answer)
        if key not in seen:
            seen.add(key)
            kept.append(answer)
    return kept


def _unwrap_whole(text: str) -> str:
    """``text`` without its math delimiters or whole-answer box, when it is one span (``$x$ or $y$`` stays)."""
    text, inner = text.strip(), unwrap_math(text)
    return text if inner != text and re.search(r"(?<!\\)\$|\\[()\[\]]", inner) else inner


def _unit_end(sentence: str, start: int, end: int, spans: list[str]) -> int:
    """Where a value's unit ends: up to two words after it that normalization reads as its unit or counted
    noun (``42 apples``, ``60 km/h``, ``8 cubic feet``); none when it does not (``18 every day``)."""
    stops = []
    for _ in range(2):
        word = _UNIT_WORD.match(sentence, stops[-1] if stops else end)
        if not word:
            break
        stops.append(word.end())
    bare = normalize(unmask(sentence[start:end], spans, bodies=True)).text
    return next((stop for stop in reversed(stops)
                 if normalize(unmask(sentence[start:stop], spans, bodies=True)).text == bare), end)
