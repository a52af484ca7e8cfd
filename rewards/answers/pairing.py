"""Reads a committed answer and its gold as one pair, the way a grader reads them side by side: which form of
the gold the answer is written in (an option's letter or its text), and what a named answer names (a named
tuple, an assignment) when the other side names nothing. Both the in-process paths and the workers compare the
pair it returns, so they give one verdict. It must never raise and never call SymPy."""

from __future__ import annotations

import re

from rewards.answers.normalize import Answer, normalize, unwrap_math
from rewards.answers.numbers import assignments, split_top

# A gold that is one option of a multiple-choice question with its text: "(B) 12 apples", "B) 12", "\textbf{(B)} 12"
_OPTION = re.compile(r"^\s*(?:\\text(?:bf)?\{\s*)?\(\s*([A-J])\s*\)\s*\}?\s*[.:]?\s*(\S.*)$|^\s*([A-J])\s*[.:)]\s+(\S.*)$",
                     re.DOTALL)
_LETTER = re.compile(r"^(?:(?:option|choice)\s*)?\(?\s*([A-Ja-j])\s*\)?(?:[.:)]|\s|$)", re.IGNORECASE)
_TEXT_COMMAND = re.compile(r"\\(?:text|textbf|mathrm|mathbf)\s*\{([^{}]*)\}")
# A named tuple: "(x, y) = (1, 5)" names the entries of the tuple it assigns
_NAMED_TUPLE = re.compile(r"^\(([a-zA-Z](?:,[a-zA-Z])+)\)=(\(.+\))$")


def read_pair(answer: str, target: str) -> tuple[Answer, Answer]:
    r"""The committed ``answer`` and the gold ``target``, each normalized, in the form the other is written in:

    - a gold that is an option with its text (``(B) 12 apples``) is its letter against an answer that names a
      letter, and its text otherwise (``12 apples`` and ``12`` are equal to it, ``C`` is not);
    - a named tuple (``(x,y)=(1,5)``) is its tuple against a side that names nothing, and its assignments
      (``x=1,y=5``) against a list of assignments;
    - one assignment to a name (``x = 3``, ``f(x) = x^2``, ``A^{-1} = M``) is its value against a side that is no
      equation or relation.

    >>> [a.text for a in read_pair("B", "(B) 12 apples")], [a.text for a in read_pair("12", "(B) 12 apples")]
    (['B', 'B'], ['12', '12'])
    >>> [a.text for a in read_pair("(1, 5)", "(x, y) = (1, 5)")], [a.text for a in read_pair("x = 3", "3")]
    (['(1,5)', '(1,5)'], ['3', '3'])
    """
    option = _OPTION.match(target)
    if option:
        letter, text = option.group(1) or option.group(3), option.group(2) or option.group(4)
        picked = _LETTER.match(_TEXT_COMMAND.sub(lambda m: m.group(1), unwrap_math(answer)).strip())
        target = letter if picked or len(answer.strip()) == 1 else text
    pred, gold = normalize(answer), normalize(target)
    return _as_read_against(pred, gold), _as_read_against(gold, pred)


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
    if "=" in answer.text and not re.search(r"[=<>]|\\(?:neq|leq|geq|in)(?![a-zA-Z])", other.text):
        named_values = assignments(answer.text)
        if named_values and len(named_values) == 1 and len(next(iter(named_values.values()))) == 1:
            return Answer(next(iter(named_values.values()))[0], answer.unit, answer.percent)
    return answer
