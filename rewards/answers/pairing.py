"""Reads a committed answer and its gold as one pair, the way a grader reads them side by side: which form of
the gold the answer is written in (an option's letter or its text), and what a named answer names (a named
tuple, an assignment) when the other side names nothing. Both the in-process paths and the workers compare the
pair it returns, so they give one verdict. It must never raise and never call SymPy."""

from __future__ import annotations

import re
from fractions import Fraction

from rewards.answers.normalize import Answer, normalize, unwrap_math
from rewards.answers.numbers import ANOTHER_OPTION, assignments, decide, picked_choice, split_top, value

# A gold that is one option of a multiple-choice question with its text: "(B) 12 apples", "B) 12", "\textbf{(B)} 12"
_OPTION = re.compile(r"^\s*(?:\\text(?:bf)?\{\s*)?\(\s*([A-J])\s*\)\s*\}?\s*[.:]?\s*(\S.*)$"
                     r"|^\s*([A-J])(?:\s*[.:)]\s+|\s+(?=[A-Z][a-z]))(\S.*)$", re.DOTALL)  # "C Cecile": a letter, a name
# a quantity an operator names (an integral, a limit, a sum or product, an expectation or probability) set equal to
# one value that names no variable of its own
_NAMED_QUANTITY = re.compile(
    r"^\s*(?:\\(?:int|iint|oint|lim|sum|prod|mathbb\s*\{?[EP]\}?|operatorname\{[EP]\}|Pr)(?![a-zA-Z])|[EP]\s*[(\[])"
    r"(?:[^=<>{}]|\{(?:[^{}]|\{[^{}]*\})*\})*=\s*((?:\\[a-zA-Z]+|(?<![a-zA-Z\\])[ei](?![a-zA-Z])|[^=<>a-zA-Z\\])*)$")
_RELATION = re.compile(r"[=<>]|\\(?:neq|leq|geq|in)(?![a-zA-Z])")  # an equation or relation
_ALTERNATE_SPELLINGS = re.compile(r"\s*(?:,|\bor\b|\\text\{\s*or\s*\})\s*")
# A named tuple: "(x, y) = (1, 5)" names the entries of the tuple it assigns
# A ratio of named quantities set equal to a value: "S_{ABC}:S=7:32", "\frac{NO}{BO}=\frac{1}{\sqrt{6}}", "a/b=3"
_NAME_PART = r"[A-Za-z]{1,4}(?:_\{?\w{1,6}\}?)?"
_NAMED_RATIO = re.compile(rf"^(?:{_NAME_PART}[:/]{_NAME_PART}|\\frac\{{{_NAME_PART}\}}\{{{_NAME_PART}\}})=([^=<>a-zA-Z]*"
                          r"(?:\\(?:frac|sqrt|pi)[^=<>a-zA-Z]*)*)$")
_NAMED_TUPLE = re.compile(r"^\(([a-zA-Z](?:,[a-zA-Z])+)\)=(\(.+\))$")


def read_pair(answer: str, target: str) -> tuple[Answer, Answer]:
    r"""The committed ``answer`` and the gold ``target``, each normalized, in the form the other is written in:

    - a gold that is an option with its text (``(B) 12 apples``, ``C Cecile``) is its letter against an answer that names a
      letter, and its text otherwise (``12 apples`` and ``12`` are equal to it, ``C`` is not); an answer that is an
      option with its text (``(B) aquarium``) is its text against a gold that names no letter;
    - a named tuple (``(x,y)=(1,5)``) is its tuple against a side that names nothing, and its assignments
      (``x=1,y=5``) against a list of assignments;
    - one assignment to a name (``x = 3``, ``f(x) = x^2``, ``A^{-1} = M``) is its value against a side that is no
      equation or relation; assignments to several names (the blanks of a multi-part question) against a bare
      list of as many values are compared value by value, in order.

    >>> [a.text for a in read_pair("B", "(B) 12 apples")], [a.text for a in read_pair("12", "(B) 12 apples")]
    (['B', 'B'], ['12', '12'])
    >>> [a.text for a in read_pair("(1, 5)", "(x, y) = (1, 5)")], [a.text for a in read_pair("x = 3", "3")]
    (['(1,5)', '(1,5)'], ['3', '3'])
    """
    if option := _option(target):
        letter, text = option
        target = letter if picked_choice(normalize(answer).text) else text  # the letter as numbers.decide reads it
    elif (chosen := _option(answer)) and not ANOTHER_OPTION.search(chosen[1]):
        letter, text = chosen
        # "(B) aquarium" against "aquarium": the text; "D) 2500/y" against "D": the letter
        answer = letter if picked_choice(normalize(target).text) else text.rstrip(" .")
    pred, gold = normalize(answer), normalize(target)
    pred, gold = _as_variable(pred, gold), _as_variable(gold, pred)
    if "=" not in pred.text + gold.text and "," not in pred.text and (" or " not in answer):
        return pred, gold  # nothing named, listed or restated: the pair as normalized (the common case)
    if _restates(answer, gold):
        return gold, gold
    pred, gold = _as_read_against(pred, gold), _as_read_against(gold, pred)
    in_order = _values_in_order(pred, gold)
    if in_order:
        return in_order
    in_order = _values_in_order(gold, pred)
    return (in_order[1], in_order[0]) if in_order else (pred, gold)


def _option(text: str) -> tuple[str, str] | None:
    """An option with its text, as (letter, text): ``(B) 12 apples``, ``C Cecile``."""
    match = _OPTION.match(text)
    return (match.group(1) or match.group(3), match.group(2) or match.group(4)) if match else None


def _as_variable(answer: Answer, other: Answer) -> Answer:
    """A one-letter "unit" the other side uses as a variable is that variable: ``625L`` against ``625*L`` (not 625
    litres)."""
    if len(answer.unit) == 1 and not other.unit and re.search(rf"(?<![A-Za-z\\]){answer.unit}(?![A-Za-z])", other.text):
        return Answer(f"{answer.text}{answer.unit}", "", answer.percent)
    return answer


def _restates(answer: str, gold: Answer) -> bool:
    """``0.5 or 50%`` against ``1/2``: one value written two or three ways, each equal to a gold that is one number."""
    if not isinstance(value(gold.text), Fraction) or ("," not in answer and " or " not in answer):
        return False
    items = [item for item in _ALTERNATE_SPELLINGS.split(unwrap_math(answer)) if item.strip()]
    if not 2 <= len(items) <= 3:
        return False
    spellings = [normalize(item) for item in items]
    return all(isinstance(value(s.text), Fraction) and decide(s, gold) for s in spellings)


def _values_in_order(named: Answer, values: Answer) -> tuple[Answer, Answer] | None:
    r"""A list of assignments to different names (``\theta=\frac{3\pi}{2}, f(\frac{2\pi}{3})=1``, the blanks of a
    multi-part question) against a bare list of as many values: both read as tuples, compared in order."""
    mapping = assignments(named.text) if "=" in named.text and "=" not in values.text else None
    items = split_top(values.text) if mapping else None
    if not mapping or not items or len(mapping) < 2 or len(items) != len(mapping) or \
            any(len(v) != 1 for v in mapping.values()) or values.text.startswith(("(", "[", "{", "\\{")):
        return None
    ordered = ",".join(v[0] for v in mapping.values())
    return Answer(f"({ordered})", named.unit, named.percent), Answer(f"({values.text})", values.unit, values.percent)


def _as_read_against(answer: Answer, other: Answer) -> Answer:
    """``answer`` in the form ``other`` is written in (see ``read_pair``)."""
    named = _NAMED_TUPLE.match(answer.text)
    if named:
        names, values = named.group(1).split(","), named.group(2)
        other_named = _NAMED_TUPLE.match(other.text)
        if "=" not in other.text or (other_named and other_named.group(1).split(",") == names):
            return Answer(values, answer.unit, answer.percent)
        entries = split_top(values[1:-1])
        if other_named is None and entries and len(entries) == len(names):
            pairs = ",".join(f"{name}={entry}" for name, entry in zip(names, entries, strict=True))
            return Answer(pairs, answer.unit, answer.percent)
        return answer
    groups = _solution_groups(answer.text)
    if groups and ("=" not in other.text or _solution_groups(other.text)):  # "p=5,q=2; p=7,q=2" vs "(5,2),(7,2)"
        return Answer(groups, answer.unit, answer.percent)
    relation = _RELATION.search(other.text)
    quantity = _NAMED_QUANTITY.match(answer.text)
    if quantity and (not relation or _assigned_value(other) is not None):
        return Answer(quantity.group(1), answer.unit, answer.percent)  # "\mathbb E T = 15": the quantity, then its value
    if "=" in answer.text and not relation:
        assigned = _assigned_value(answer)
        if assigned is not None:
            return Answer(assigned, answer.unit, answer.percent)
        ratio = _NAMED_RATIO.match(answer.text)
        if ratio:  # "V_1:V_2 = 11:21", "\frac{NO}{BO} = \frac{1}{\sqrt6}": a named ratio is its value
            return Answer(ratio.group(1), answer.unit, answer.percent)
    return answer


def _assigned_value(answer: Answer) -> str | None:
    """The value of one name assigned one value (``E = 15`` -> ``15``), else ``None``."""
    named = assignments(answer.text) if "=" in answer.text else None
    if not named or len(named) != 1 or len(values := next(iter(named.values()))) != 1:
        return None
    return values[0]


def _repeated_names(text: str) -> list[str]:
    """``p=5,q=2,p=7,q=2`` (solutions joined by "and", which normalization made a comma) cut where the names repeat."""
    items = split_top(text) or []
    names = [item.split("=", 1)[0].strip() if "=" in item else None for item in items]
    width = len(dict.fromkeys(names))
    if None in names or width < 2 or len(items) % width or len(items) == width:
        return []
    blocks = [items[i: i + width] for i in range(0, len(items), width)]
    return [",".join(block) for block in blocks] if all(names[i: i + width] == names[:width]
                                                         for i in range(0, len(items), width)) else []


def _solution_groups(text: str) -> str | None:
    r"""Several solutions, each a list of assignments to the same names in the same order, separated by ``;`` or
    ``and`` (``p=5,q=2;p=7,q=2``), as the list of their tuples (``(5,2),(7,2)``); None for anything else."""
    parts = [part for part in re.split(r";|\\text\{\s*and\s*\}|\band\b", text) if part.strip(" ,")]
    if len(parts) < 2:
        parts = _repeated_names(text)
    if len(parts) < 2:
        return None
    if ";" in text and "=" not in text and not re.search(r"[()\[\]{}]", text):  # "1,2;3,4": tuples without brackets
        items = [split_top(part.strip(" ,")) or [] for part in parts]
        sizes = {len(item) for item in items}
        return ",".join("(" + ",".join(item) + ")" for item in items) if len(sizes) == 1 and sizes != {1} else None
    tuples, names = [], None
    for part in parts:
        mapping = assignments(part.strip(" ,"))
        if not mapping or any(len(values) != 1 for values in mapping.values()) or len(mapping) < 2:
            return None
        if names is not None and list(mapping) != names:
            return None
        names = list(mapping)
        tuples.append("(" + ",".join(values[0] for values in mapping.values()) + ")")
    return ",".join(tuples)
