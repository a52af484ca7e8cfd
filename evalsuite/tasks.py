"""Benchmark presets (`--task gsm8k|math|math500|aime`): the question column, the gold answer, the template, the few-shot answer.
It must never guess a gold answer: a row whose gold cannot be read is an error naming the column."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from evalsuite.errors import EvalError, missing_column

# The instruction the Qwen2.5-Math and DeepSeek-R1 reports evaluate with; {question} is the task's question column.
STANDARD_TEMPLATE = "{question}\nPlease reason step by step, and put your final answer within \\boxed{}."

_GSM8K_CALCULATOR = re.compile(r"<<[^<>]*>>")  # GSM8K's calculator annotations, e.g. <<48/2=24>>
_BOX = re.compile(r"\\(?:boxed|fbox)\s*\{")


@dataclass(frozen=True)
class Task:
    """One preset: ``question`` names the column(s) a row's question may be in (the first present is used,
    and the template refers to it as ``{question}``), ``gold(row)`` the gold answer, ``target(row)`` the
    answer turn of a few-shot example, and ``hub_config`` the `datasets` config a hub id needs."""

    name: str
    question: tuple[str, ...]
    gold: Callable[[dict], str]
    target: Callable[[dict], str]
    template: str = STANDARD_TEMPLATE
    hub_config: str | None = None

    def question_text(self, row: dict) -> str:
        column = _first_present(row, self.question, "question")
        return str(row[column])


def last_boxed(text: str) -> str | None:
    r"""The content of the last ``\boxed{...}`` (or ``\fbox{...}``) in ``text``, braces balanced; None if none.

    >>> last_boxed(r"so $x = \boxed{\frac{1}{2}}$, not \boxed{3")
    '\\frac{1}{2}'
    >>> last_boxed("no box") is None
    True
    """
    for match in reversed(list(_BOX.finditer(text))):
        depth, start = 1, match.end()
        for i in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                return text[start:i].strip()
    return None


def gsm8k_gold(row: dict) -> str:
    """GSM8K: what follows the last ``####`` of the ``answer`` column, thousands separators dropped.

    >>> gsm8k_gold({"answer": "She has 3+4=<<3+4=7>>7.\\n#### 1,007"})
    '1007'
    """
    text = str(row[_first_present(row, ("answer",), "gold answer")])
    if "####" not in text:
        raise EvalError("column 'answer' has no '#### N' final answer line (GSM8K format)")
    answer = text.rsplit("####", 1)[1].strip().replace(",", "")
    if not answer:
        raise EvalError("column 'answer' has nothing after its '####'")
    return answer


def gsm8k_target(row: dict) -> str:
    """A GSM8K worked answer as a few-shot turn: calculator annotations removed, the ``#### N`` line said in
    the template's form."""
    text = _GSM8K_CALCULATOR.sub("", str(row["answer"])).rsplit("####", 1)[0].rstrip()
    return f"{text}\nThe final answer is $\\boxed{{{gsm8k_gold(row)}}}$."


def math_gold(row: dict) -> str:
    """MATH: the last ``\\boxed{}`` of the ``solution`` column (or the ``answer`` column when the row has one)."""
    if row.get("answer") not in (None, ""):
        return str(row["answer"]).strip()
    column = _first_present(row, ("solution",), "gold answer")
    answer = last_boxed(str(row[column]))
    if not answer:
        raise EvalError(f"column {column!r} has no \\boxed{{...}} final answer (MATH format)")
    return answer


def answer_gold(row: dict) -> str:
    """MATH-500, AIME: the ``answer`` column as text; AIME's integer answers lose leading zeros ("023" -> "23")."""
    value = row[_first_present(row, ("answer", "Answer"), "gold answer")]
    text = str(value).strip()
    if not text:
        raise EvalError("column 'answer' is empty")
    return str(int(text)) if text.isdigit() else text


def solution_target(row: dict) -> str:
    """The worked solution when the row has one, else a one-line answer in the template's form."""
    for column in ("solution", "Solution"):
        if row.get(column):
            return str(row[column]).strip()
    return f"The final answer is $\\boxed{{{answer_gold(row)}}}$."


TASKS: dict[str, Task] = {
    "gsm8k": Task("gsm8k", ("question",), gsm8k_gold, gsm8k_target, hub_config="main"),
    "math": Task("math", ("problem",), math_gold, solution_target),
    "math500": Task("math500", ("problem",), answer_gold, solution_target),
    "aime": Task("aime", ("problem", "Problem", "question"), answer_gold, solution_target),
}


def get_task(name: str) -> Task:
    """The preset called ``name``; EvalError listing the presets otherwise."""
    if name not in TASKS:
        raise EvalError(f"unknown task {name!r}; choose one of: {', '.join(TASKS)}")
    return TASKS[name]


def _first_present(row: dict, columns: tuple[str, ...], what: str) -> str:
    for column in columns:
        if column in row:
            return column
    raise EvalError(missing_column(columns, row, what=what))
