"""Settles cheap comparisons in-process: exact rationals; lists, sets, tuples, intervals and assignments of them.
It must never call SymPy, never round, and answers ``None`` (undecided) for anything outside that domain."""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

from rewards.answers import algebra
from rewards.answers.normalize import MACHINE_FLOAT_TOLERANCE, Answer, against_printed_float, typeset

INF = "inf"
MAX_DIGITS = 400
_INT = r"\d+"
_DEC = r"(?:\d+\.\d*|\.\d+|\d+)"
_SCI = re.compile(rf"^({_DEC})(?:e|E|\s*(?:\\times|\\cdot|\*)\s*10\^)\{{?([-+]?\d{{1,3}})\}}?$")
_FRAC = re.compile(r"^\\frac\{(-?\d+)\}\{(-?\d+)\}$")
_SLASH = re.compile(r"^(\d+)/(\d+)$")
_POWER = re.compile(r"^(\d+)\^\{?(-?\d+)\}?$")
# A named geometric quantity: a segment, angle, arc or area by its points (AB, \angle ABC, m\angle A,
# \overline{AB}, [ABC]); written before "=" it names what the value is, like a variable does.
_QUANTITY = r"(?:m\s*)?\\(?:angle|measuredangle)\s*[A-Z]{1,3}|\\overline\{[A-Z]{2}\}|\[[A-Z]{3,4}\]|[A-Z]{2,3}"
# a lone variable or a call (x, a_1, f(x), f(2)), or a named quantity
# a matrix by its letter, inverse or transpose (A^{-1}, M^T) is a name too
_GREEK = (r"\\(?:alpha|beta|gamma|delta|epsilon|varepsilon|zeta|eta|theta|vartheta|kappa|lambda|mu|nu|xi|rho|sigma|"
          r"tau|phi|varphi|chi|psi|omega|Gamma|Delta|Theta|Lambda|Phi|Psi|Omega)(?![a-zA-Z])")
_NAME = rf"(?:(?:[a-zA-Z]|{_GREEK})(?:_\{{?\w+\}}?)?(?:\([^()=<>]{{0,40}}\))?|[A-Z]\^\{{?(?:-1|T|\\top)\}}?|{_QUANTITY})"
_ASSIGNMENT = re.compile(rf"^{_NAME}=(?!.*[=<>])")
_NAMED = re.compile(rf"^({_NAME})=([^=<>]+)$")
_CALL = re.compile(r"^[a-zA-Z](?:_\{?\w+\}?)?\(([a-z,]*)\)$")
_SPACED_NUMBERS = re.compile(r"^[-+]?\d+(?:\.\d+)?(?:/\d+)?(?: +\d+(?:\.\d+)?(?:/\d+)?)+$")
MAX_PAIRS = 144  # entry pairs compared in one unordered structure of expressions (12 x 12)
MAX_NESTING = 3
_WORD = re.compile(r"^[A-Za-z][A-Za-z ]*$")
_RELATION = re.compile(r"[<>!]|\\(?:le|ge|lt|gt|ne|neq|leq|geq|lor|land|approx|equiv|in)(?![a-zA-Z])")
_CALL_LIKE = re.compile(r"[a-zA-Z}]\s*\(")
_PLAIN_NUMBER = re.compile(r"^-?(?:\d+(?:\.\d+)?|\.\d+|\d+/\d+|\\frac\{-?\d+\}\{\d+\})$")
_MONOMIAL = re.compile(r"^[A-Za-z\d ]+(?:\.\d[A-Za-z\d ]*)*$")  # a dot only before a digit (linear time)
_READER_WORD = re.compile(r"(?<![A-Za-z])(?:sqrt|pi|sin|cos|tan|sec|csc|cot|log|ln|lg|exp|abs|oo|inf|infty|infinity|nan|"
                          r"zoo|max|min|gcd|lcm|mod|det|arg)(?![A-Za-z])", re.IGNORECASE)
_MIXED = re.compile(r"^(\d+) ?\\frac\{(\d+)\}\{(\d+)\}$")
_REPEAT = re.compile(r"^(\d*)\.(\d*)(?:\\overline\{(\d+)\}|\\dot\{(\d)\}|\((\d+)\)|\\overline(\d))$")
_CHOICE = re.compile(r"^\(?([A-J])\)?$")
_CHOICE_LEAD = re.compile(r"^(?:(?:option|choice)\s*)?\(?([A-Ja-j])\)?(?:[.:)]\s*|\s+|$)(?!.*[=+*/^])", re.IGNORECASE)
_BRACKETS = {"(": ")", "[": "]", "\\{": "\\}"}
ANOTHER_OPTION = re.compile(r"(?:\b(?:and|or|&)\s*|,\s*)\(?[A-J]\)?(?![A-Za-z])")


def decide(pred: Answer, gold: Answer) -> bool | None:
    r"""``True``/``False`` when both answers are exact numbers or structures of them; else ``None``.

    >>> from rewards.answers.normalize import normalize
    >>> decide(normalize("0.5"), normalize(r"\frac{1}{2}"))
    True
    >>> decide(normalize("0.333"), normalize(r"\frac13"))
    False
    >>> decide(normalize(r"\sqrt{2}"), normalize("1.414"))
    False
    >>> decide(normalize(r"\sin x"), normalize("1")) is None
    True
    """
    if pred.unit and gold.unit and pred.unit != gold.unit:
        return False
    if pred.approximation and gold.approximation and typeset(pred.approximation) != typeset(gold.approximation):
        return False  # both write a value and its approximation, and the approximations differ (``\pi \approx 3.15``)
    if pred.percent == gold.percent and (pred.text == gold.text or typeset(pred.text) == typeset(gold.text)):
        return True  # the same text, or the same TeX spaced or braced differently (``m c^{2}``, ``mc^2``)
    if against_printed_float(pred, gold):  # a gold a program printed: equal when close
        a, b = number(pred.text), number(gold.text)
        if isinstance(a, Fraction) and isinstance(b, Fraction) and pred.percent == gold.percent:
            return abs(a - b) <= MACHINE_FLOAT_TOLERANCE * max(1, abs(b))
        return None  # an irrational, a complex number or a structure: SymPy compares them numerically
    choice = _choice(gold.text)
    if choice:
        picked = picked_choice(pred.text)
        return picked == choice if picked or _is_value(pred) else None
    if ":" in pred.text or ":" in gold.text:  # clock times and ratios: compared as written
        return False
    if _WORD.match(pred.text) and _WORD.match(gold.text) and (_is_word(pred.text) or _is_word(gold.text)):
        return pred.text.lower() == gold.text.lower()
    if _SPACED_NUMBERS.match(pred.text) or _SPACED_NUMBERS.match(gold.text):
        return False  # "1 2" is no number (a mixed number "2 1/2" was rewritten by normalize)
    if _PLAIN_NUMBER.match(gold.text) and _product_with_unknown(pred.text):
        return False  # "5 apples", "no solution", "ab" against "5": what SymPy would answer, without it
    parts = _chain(pred.text) if "=" not in gold.text else None
    if parts:  # "x = 5/8 = 0.625": every side must equal the gold
        verdicts = [decide(Answer(part, pred.unit, pred.percent), gold) for part in parts]
        return _all(verdicts)
    named_p, named_g = assignments(pred.text), assignments(gold.text)
    if named_p and named_g and (len(named_p) > 1 or len(named_g) > 1):
        return _same_mapping(named_p, named_g)
    if _different_variables(named_p, named_g):
        return False
    if _one_equation(pred.text) and _one_equation(gold.text) and not (pred.percent or gold.percent):
        verdict = _same_equation(pred.text, gold.text)
        if verdict is not None:
            return verdict
    p, g = _right_sides(pred.text, named_p, gold.text, named_g)
    if p == g and pred.percent == gold.percent:
        return True
    if _CHAIN.match(p) or _CHAIN.match(g):
        ranges = interval(p), interval(g)
        return None if None in ranges else ranges[0] == ranges[1]
    a, b = value(p), value(g)
    if _is_union(a) != _is_union(b) or (_is_union(a) and not same(a, b)):
        return None  # [1,2] \cup [2,3] is [1,3]: unions of intervals are SymPy's to compare as sets
    if a is not None and b is not None:
        return any(same(x, y) for x in _percent_forms(a, pred, gold) for y in _percent_forms(b, gold, pred))
    if _is_scalar(p) and _is_scalar(g):
        both = pred.percent and gold.percent
        return _same_expression(p, g, pred.percent and not both, gold.percent and not both)
    ea, eb = entries(p), entries(g)
    return None if ea is None or eb is None else compare_entries(ea, eb)


def _is_union(v) -> bool:
    return isinstance(v, tuple) and v[0] == "union"


def _all(verdicts: list) -> bool | None:
    """All True: True; any False: False; else undecided."""
    return False if False in verdicts else None if None in verdicts else True


_LESS = {"<": False, "\\lt": False, "\\le": True, "\\leq": True, "<=": True, "\\leqslant": True}
_MORE = {">": False, "\\gt": False, "\\ge": True, "\\geq": True, ">=": True, "\\geqslant": True}
_OPS = "|".join(sorted(map(re.escape, [*_LESS, *_MORE]), key=len, reverse=True))
# one variable, or the value of a function (0 < f(x) < 1: the range of f)
_CHAIN = re.compile(rf"^(?:(?P<a>[^<>=\\]+?)\s*(?P<op1>{_OPS})\s*)?(?P<var>[a-z](?:\([a-z]\))?)\s*(?P<op2>{_OPS})\s*"
                    r"(?P<b>[^<>=]+)$")


def interval(text: str) -> tuple | None:
    r"""A one-variable interval as (low, low closed, high, high closed), from an inequality or interval notation.

    >>> interval(r"x\ge 2") == interval(r"[2,\infty)")
    True
    >>> interval("1<x<3") == interval("(1,3]")
    False
    """
    match = _CHAIN.match(text)
    if match:
        return _from_inequality(match)
    kind, _ = bracketed(text)
    structure = value(text) if kind in ("()", "[]", "(]", "[)") else None
    if not (isinstance(structure, tuple) and len(structure[1]) == 2):
        return None
    (low, high), kind = structure[1], structure[0]
    return _ordered(low, kind[0] == "[", high, kind[1] == "]")


def _from_inequality(match) -> tuple | None:
    low, low_closed, high, high_closed = "-inf", False, INF, False
    b = number(match.group("b"))
    if b is None or b in (INF, "-inf"):
        return None
    op2 = match.group("op2")
    if op2 in _LESS:
        high, high_closed = b, _LESS[op2]
    else:
        low, low_closed = b, _MORE[op2]
    if match.group("a") is not None:
        a, op1 = number(match.group("a")), match.group("op1")
        if a is None or a in (INF, "-inf") or (op1 in _LESS) != (op2 in _LESS):
            return None
        if op1 in _LESS:
            low, low_closed = a, _LESS[op1]
        else:
            high, high_closed = a, _MORE[op1]
    return _ordered(low, low_closed, high, high_closed)


def _ordered(low, low_closed, high, high_closed) -> tuple | None:
    low_closed = low_closed and low != "-inf"
    high_closed = high_closed and high != INF
    return (low, low_closed, high, high_closed)


def _is_scalar(text: str) -> bool:
    kind, inside = bracketed(text)
    return kind in (None, "()") and split_top(inside) == [inside] and "=" not in text


def _same_expression(p: str, g: str, p_percent: bool, g_percent: bool) -> bool | None:
    """Exact evaluation of both sides (``_algebra``); percent answers also read as value/100."""
    verdicts = [algebra.same_value(x, y) for x in _texts(p, p_percent) for y in _texts(g, g_percent)]
    if True in verdicts:
        return True
    return None if None in verdicts else False


def _texts(text: str, percent: bool) -> list[str]:
    return [text, "(" + text + ")/100"] if percent else [text]


def _chain(text: str) -> list[str] | None:
    r"""The value sides of ``a = b (= c ...)`` after a leading lone variable, if two or more remain.

    >>> _chain(r"x=\frac{5}{8}=0.625"), _chain("x=3")
    (['\\frac{5}{8}', '0.625'], None)
    """
    if "=" not in text or re.search(r"[<>]|\\(?:leq|geq|neq|lor|land)", text) or split_top(text) != [text]:
        return None
    parts = [part.strip() for part in text.split("=")]
    if re.fullmatch(_NAME, parts[0]):
        parts = parts[1:]
    return parts if len(parts) >= 2 and all(parts) else None


def _product_with_unknown(text: str) -> bool:
    r"""Only letters, numbers and spaces (``5 apples``, ``no real solution``, ``ab``), a letter other than ``e``,
    ``i``, ``E``, ``I``, no zero and no word a reader takes for a constant or a function (``pi``, ``sqrt``, ``oo``):
    SymPy reads it as a nonzero number times unknowns, which equals no number.

    >>> _product_with_unknown("5 apples"), _product_with_unknown("ab"), _product_with_unknown("ii")
    (True, True, False)
    >>> _product_with_unknown("0 apples"), _product_with_unknown("2 pi"), _product_with_unknown("x+1")
    (False, False, False)
    """
    if not _MONOMIAL.match(text) or _READER_WORD.search(text):
        return False
    if not set(re.findall("[A-Za-z]", text)) - set("eiEI"):
        return False
    return all(Fraction(n) for n in re.findall(r"\d+(?:\.\d+)?", text))


def _one_equation(text: str) -> bool:
    """One ``=`` between two sides in the exact grammar: no other relation, list, or call (``f(x)``)."""
    return (text.count("=") == 1 and not _RELATION.search(text) and split_top(text) == [text]
            and not _CALL_LIKE.search(text))


def _same_equation(p: str, g: str) -> bool | None:
    r"""Two equations are equal when ``lhs - rhs`` of one is a nonzero constant times the other's (``2x+4y=8`` =
    ``x+2y=4``, ``y=2x+1`` = ``2x-y+1=0``), as SymPy decides; ``algebra.proportional`` tests that exactly. A
    "not equal" stands only when both are not assignments to a lone letter: SymPy equates ``y = t+1`` with
    ``z = t+1`` (the same value under two names)."""
    (lp, rp), (lg, rg) = p.split("="), g.split("=")
    verdict = algebra.proportional(f"({lp})-({rp})", f"({lg})-({rg})")
    if verdict is False and _assigns(lp, rp) and _assigns(lg, rg):
        return None
    return verdict


def _assigns(left: str, right: str) -> bool:
    return bool(re.fullmatch(_NAME, left.strip()) or re.fullmatch(_NAME, right.strip()))


def _is_word(text: str) -> bool:
    """``Tuesday``, ``even``, ``yes``: a word, not a product of letters like ``ab``."""
    bare = text.replace(" ", "").lower()
    return len(bare) >= 4 or bare in algebra.SHORT_WORDS


def assignments(text: str) -> dict[str, list[str]] | None:
    r"""``x=3`` -> ``{'x': ['3']}``; ``n=2,3,4`` -> ``{'n': ['2,3,4']}``; ``a=1,b=2`` -> one entry per name
    (``x=1,x=2`` -> ``{'x': ['1', '2']}``); None unless the text is one assignment or a list of them.

    >>> assignments("a=1,b=2"), assignments("y=2x+1"), assignments("2x+4y=8")
    ({'a': ['1'], 'b': ['2']}, {'y': ['2x+1']}, None)
    """
    if _ASSIGNMENT.match(text):
        name, rest = text.split("=", 1)
        return {name: [rest]}
    items = split_top(text)
    if not items or len(items) < 2:
        return None
    named: dict[str, list[str]] = {}
    for item in items:
        match = _NAMED.match(item.strip())
        if not match:
            return None
        named.setdefault(match.group(1), []).append(match.group(2))
    return named


def _same_mapping(p: dict, g: dict) -> bool | None:
    """Lists of assignments compare as mappings name -> values (``a=1,b=2`` = ``b=2,a=1``)."""
    if set(p) != set(g):
        return False
    return _all([decide(Answer(",".join(p[name])), Answer(",".join(g[name]))) for name in p])


def _right_sides(p: str, named_p, g: str, named_g) -> tuple[str, str]:
    r"""What each side asserts: ``x=3`` reads as ``3`` against a side that is no assignment; two assignments
    to the same name, or to functions of the same arguments (``g(x)=2x+1``, ``y=2x+1``), compare right sides."""
    single_p = named_p is not None and len(named_p) == 1
    single_g = named_g is not None and len(named_g) == 1
    if single_p and named_g is None:
        return ",".join(*named_p.values()), g
    if single_g and named_p is None:
        return p, ",".join(*named_g.values())
    if single_p and single_g:
        (name_p, values_p), (name_g, values_g) = next(iter(named_p.items())), next(iter(named_g.items()))
        rhs_p, rhs_g = ",".join(values_p), ",".join(values_g)
        if name_p == name_g or _same_function(name_p, name_g, rhs_p + "," + rhs_g):
            return rhs_p, rhs_g
    return p, g


def _different_variables(named_p, named_g) -> bool:
    """``x=3`` vs ``y=3``: constants assigned to two different variables are two different lines."""
    if not (named_p and named_g and len(named_p) == len(named_g) == 1):
        return False
    (name_p, values_p), (name_g, values_g) = next(iter(named_p.items())), next(iter(named_g.items()))
    return (name_p != name_g and not _CALL.match(name_p) and not _CALL.match(name_g)
            and value(",".join(values_p)) is not None and value(",".join(values_g)) is not None)


def _same_function(name_a: str, name_b: str, right_sides: str) -> bool:
    """``f(x)`` and ``g(x)`` (same arguments), or ``f(x)`` and a dependent variable ``y`` that is no argument
    and does not occur on the right: two names for one function."""
    call_a, call_b = _CALL.match(name_a), _CALL.match(name_b)
    if call_a and call_b:
        return call_a.group(1) == call_b.group(1)
    call, plain = (call_a, name_b) if call_a else (call_b, name_a)
    if not call or not re.fullmatch(r"[a-zA-Z]", plain):
        return False
    return plain not in call.group(1).split(",") and not re.search(rf"(?<![a-zA-Z\\]){plain}(?![a-zA-Z])", right_sides)


def _choice(text: str) -> str | None:
    match = _CHOICE.match(text.replace("\\text{", "").replace("}", ""))
    return match.group(1) if match else None


def picked_choice(text: str) -> str | None:
    r"""The option letter a prediction names: ``B``, ``(b)``, ``B) 42``, ``\text{(B)}``, ``option B``."""
    text = text.replace("\\text{", "").replace("\\textbf{", "").replace("}", "")
    match = _CHOICE_LEAD.match(text)
    if not match or ANOTHER_OPTION.search(text, match.end()):
        return None  # "(B) and (D)": two options are no choice of one
    return match.group(1).upper()


def _is_value(answer: Answer) -> bool:
    return value(answer.text) is not None


def _percent_forms(v, answer: Answer, other: Answer) -> list:
    """``X%`` reads as ``X`` or ``X/100`` against a plain number; two percentages compare as written."""
    if not answer.percent or other.percent or not isinstance(v, Fraction):
        return [v]
    return [v, v / 100]


def same(a, b) -> bool:
    """Structural equality: numbers exactly; tuples ordered; sets and bare lists unordered."""
    if isinstance(a, Fraction) or isinstance(b, Fraction) or a == INF or b == INF:
        if isinstance(a, tuple) and a[0] in ("list", "set") and len(a[1]) == 1:
            a = a[1][0]
        if isinstance(b, tuple) and b[0] in ("list", "set") and len(b[1]) == 1:
            b = b[1][0]
        return type(a) is type(b) and a == b
    if isinstance(a, tuple) and isinstance(b, tuple):
        return _same_structure(a, b)
    return a == b


def _same_structure(a: tuple, b: tuple) -> bool:
    kind_a, items_a = a
    kind_b, items_b = b
    unordered = {"set", "list"}
    if kind_a in unordered and kind_b in unordered:
        return _same_unordered(items_a, items_b)
    if {kind_a, kind_b} == {"list", "()"}:
        return len(items_a) == len(items_b) and all(map(same, items_a, items_b))
    if kind_a == "union" or kind_b == "union":
        return kind_a == kind_b and _same_unordered(items_a, items_b)
    return kind_a == kind_b and len(items_a) == len(items_b) and all(map(same, items_a, items_b))


def _same_unordered(xs, ys) -> bool:
    return all(any(same(x, y) for y in ys) for x in xs) and all(any(same(x, y) for x in xs) for y in ys)


def value(text: str):
    r"""Exact value of a normalized answer: ``Fraction``, ``INF``/``-INF`` strings, or ``(kind, items)``.

    >>> value(r"1\frac{1}{10}")
    Fraction(11, 10)
    >>> value(r"0.\overline{3}")
    Fraction(1, 3)
    >>> value("[1,\\infty)")
    ('[)', (Fraction(1, 1), 'inf'))
    """
    if len(text) > MAX_DIGITS:
        return None
    text = unwrap_doubled(text)
    if "\\cap" in text or "\\setminus" in text:
        return _set_algebra(text)
    if "\\cup" in text:
        parts = [value(part) for part in text.split("\\cup")]
        if any(p is None or not isinstance(p, tuple) for p in parts):
            return None
        if all(kind == "set" for kind, _ in parts):  # {1,2} \cup {3} is the set {1,2,3}
            return "set", tuple(item for _, items in parts for item in items)
        return "union", tuple(parts)
    structure = _structure(text)
    if structure is not None:
        return structure
    return number(text)


_SET_TOKEN = re.compile(r"\s*(\\\{(?:[^\\]|\\(?!\}))*?\\\}|\\(?:cup|cap|setminus)(?![a-zA-Z])|[()])")
_SET_OPERATIONS = {"\\cup": frozenset.union, "\\cap": frozenset.intersection, "\\setminus": frozenset.difference}


def _set_algebra(text: str):
    r"""``(\{1,2\} \cup \{3,4\}) \setminus \{2,3\}`` over finite sets of numbers, left to right with parentheses,
    as ``("set", members)``; None for anything else (intervals, unknowns: SymPy's).

    >>> _set_algebra(r"(\{1,2\}\cup\{3,4\})\setminus\{2,3\}")
    ('set', (Fraction(1, 1), Fraction(4, 1)))
    """
    tokens, at = [], 0
    while at < len(text):
        token = _SET_TOKEN.match(text, at)
        if not token:
            return None
        tokens.append(token.group(1))
        at = token.end()

    def operand(i: int):
        if i < len(tokens) and tokens[i] == "(":
            inner, i = expression(i + 1)
            return (inner, i + 1) if inner is not None and i < len(tokens) and tokens[i] == ")" else (None, i)
        members = value(tokens[i]) if i < len(tokens) and tokens[i].startswith("\\{") else None
        if not (isinstance(members, tuple) and members[0] == "set"):
            return None, i
        return frozenset(members[1]), i + 1

    def expression(i: int):
        result, i = operand(i)
        while result is not None and i < len(tokens) and tokens[i] in _SET_OPERATIONS:
            operation = _SET_OPERATIONS[tokens[i]]
            right, i = operand(i + 1)
            result = None if right is None else operation(result, right)
        return result, i

    result, end = expression(0)
    return ("set", tuple(sorted(result))) if result is not None and end == len(tokens) else None


def entries(text: str, depth: int = 0):
    r"""A tuple, set, interval or list as ``(kind, items)`` whose items are entry texts or nested structures,
    so entries that are expressions compare one by one; None for anything that is no such structure.

    >>> entries("(a+b,2)"), entries(r"(1,2),\{3\}")
    (('()', ('a+b', '2')), ('list', (('()', ('1', '2')), ('set', ('3',)))))
    """
    if depth > MAX_NESTING or len(text) > MAX_DIGITS or re.search(r"\\(?:cup|cap|setminus)(?![a-zA-Z])", text):
        return None
    text = unwrap_doubled(text)
    kind, inner = bracketed(text)
    if kind is None:
        kind = "list" if "," in text else None
    items = split_top(inner) if kind else None
    if items is None or len(items) < (1 if kind == "set" else 2):
        return None
    return kind, tuple(entries(item.strip(), depth + 1) or item.strip() for item in items)


def unwrap_doubled(text: str) -> str:
    r"""Redundant parentheses around a tuple or interval: ``((1, 2))`` is ``(1, 2)`` (``((x+1)(x-1))`` stays).

    >>> unwrap_doubled(r"((\frac{1}{3},\frac{1}{5}))"), unwrap_doubled("((1,2),(3,4))")
    ('(\\frac{1}{3},\\frac{1}{5})', '((1,2),(3,4))')
    """
    while text.startswith("((") and text.endswith("))"):
        kind, inner = bracketed(text)
        inner = inner.strip()
        if kind != "()" or not inner.startswith("(") or bracketed(inner)[0] != "()":
            break
        if len(split_top(bracketed(inner)[1]) or []) < 2:
            break
        text = inner
    return text


def compare_entries(a, b) -> bool | None:
    r"""Three-valued structural equality: numbers exactly, other entries by the exact algebra (``None`` when
    it cannot tell); tuples and intervals ordered with the same brackets, sets and bare lists unordered,
    a bare list equal to a tuple in the same order, and a set never equal to a tuple.

    >>> compare_entries(entries("(a+b,2)"), entries("(b+a,2)")), compare_entries(entries(r"\{x,2\}"), entries("(x,2)"))
    (True, False)
    """
    a, b = _lone_member(a, b), _lone_member(b, a)
    if isinstance(a, str) and isinstance(b, str):
        return _compare_leaves(a, b)
    if isinstance(a, str) or isinstance(b, str):
        leaf = a if isinstance(a, str) else b
        return False if number(leaf) is not None else None  # a number is no pair; an expression may be
    (kind_a, items_a), (kind_b, items_b) = a, b
    unordered = {"set", "list"}
    if kind_a in unordered and kind_b in unordered:
        return _compare_unordered(items_a, items_b)
    if kind_a != kind_b and {kind_a, kind_b} != {"list", "()"}:
        return False
    if len(items_a) != len(items_b):
        return False
    return _all([compare_entries(x, y) for x, y in zip(items_a, items_b, strict=True)])


def _lone_member(x, other):
    r"""``\{5\}`` against a single entry reads as ``5``."""
    if isinstance(x, tuple) and isinstance(other, str) and x[0] in ("set", "list") and len(x[1]) == 1:
        return x[1][0]
    return x


@lru_cache(maxsize=16384)
def _compare_leaves(a: str, b: str) -> bool | None:
    x, y = number(a), number(b)
    if x is not None and y is not None:
        return same(x, y)
    if x in (INF, "-inf") or y in (INF, "-inf"):
        return None
    return algebra.same_value(a, b)


def _compare_unordered(xs: tuple, ys: tuple) -> bool | None:
    """Every member matched by an equal one both ways: True; a member unequal to all of the other side: False."""
    if len(xs) * len(ys) > MAX_PAIRS:
        return None
    table = [[compare_entries(x, y) for y in ys] for x in xs]
    rows = [set(row) for row in table]
    columns = [{row[j] for row in table} for j in range(len(ys))]
    if all(True in line for line in rows + columns):
        return True
    if any(line == {False} for line in rows + columns):
        return False
    return None


def _structure(text: str):
    kind, inner = bracketed(text)
    if kind is None:
        if "," not in text:
            return None
        kind, inner = "list", text
    items = split_top(inner)
    if items is None or (kind != "list" and kind != "set" and len(items) < 2):
        return None
    values = tuple(number(item) for item in items)
    if any(v is None for v in values):
        return None
    return kind, values


def bracketed(text: str) -> tuple[str | None, str]:
    """(kind, inside) when one pair of brackets encloses the whole text: ``(1,2]`` yes, ``(x-2)(x+3)`` no."""
    for left, right in (("\\{", "\\}"), ("(", ")"), ("[", "]"), ("(", "]"), ("[", ")")):
        if text.startswith(left) and text.endswith(right) and len(text) > len(left) + len(right):
            inside = text[len(left): -len(right)]
            if not _closes_early(inside):
                return ("set" if left == "\\{" else left + right), inside
    return None, text


def _closes_early(inside: str) -> bool:
    """Does a bracket inside close below depth zero (so the outer pair is not one pair)?"""
    depth = 0
    for ch in inside:
        depth += (ch in "([{") - (ch in ")]}")
        if depth < 0:
            return True
    return False


def split_top(text: str) -> list[str] | None:
    """Entries separated by commas outside any brackets; None when one is empty (``1,,2``)."""
    items, depth, current = [], 0, ""
    for ch in text:
        depth += (ch in "({[") - (ch in ")}]")
        if ch == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += ch
    items.append(current)
    return items if all(item.strip() for item in items) else None


def number(text: str):
    r"""Exact rational (or ``INF``/``"-inf"``) for a numeric literal, else ``None``.

    >>> number("2.5e-4")
    Fraction(1, 4000)
    >>> number(r"-\frac{3}{4}")
    Fraction(-3, 4)
    """
    text = text.strip()
    sign = 1
    while text[:1] in ("-", "+"):
        sign = -sign if text[0] == "-" else sign
        text = text[1:].strip()
    if text.startswith("(") and text.endswith(")") and split_top(text[1:-1]) == [text[1:-1]]:
        inner = number(text[1:-1])
        return None if inner is None else _negate(inner) if sign < 0 else inner
    if text in ("\\infty", "\\inf", "\\infinity", "oo", "infinity"):
        return INF if sign > 0 else "-inf"
    v = _unsigned(text)
    return None if v is None else sign * v


def _negate(v):
    return {"inf": "-inf", "-inf": INF}.get(v, -v) if not isinstance(v, Fraction) else -v


def _unsigned(text: str) -> Fraction | None:
    if re.fullmatch(_DEC, text):
        return Fraction(text) if len(text) <= MAX_DIGITS else None
    for pattern, build in ((_FRAC, _frac), (_SLASH, _frac), (_MIXED, _mixed), (_SCI, _sci), (_REPEAT, _repeat),
                           (_POWER, _power)):
        match = pattern.match(text)
        if match:
            return build(*match.groups())
    return None


def _frac(a: str, b: str) -> Fraction | None:
    return Fraction(int(a), int(b)) if int(b) else None


def _mixed(whole: str, a: str, b: str) -> Fraction | None:
    if not int(b) or int(a) >= int(b):
        return None
    return int(whole) + Fraction(int(a), int(b))


def _power(base: str, exponent: str) -> Fraction | None:
    b, e = int(base), int(exponent)
    if abs(e) > 4000 or len(base) * abs(e) > 4000 or (b == 0 and e < 0):
        return None
    return Fraction(b) ** e


def _sci(mantissa: str, exponent: str) -> Fraction:
    return Fraction(mantissa) * Fraction(10) ** int(exponent)


def _repeat(whole: str, fixed: str, *repeats: str | None) -> Fraction:
    rep = next(r for r in repeats if r)
    base = Fraction(int(whole or "0")) + (Fraction(int(fixed), 10 ** len(fixed)) if fixed else 0)
    return base + Fraction(int(rep), (10 ** len(rep) - 1) * 10 ** len(fixed))
