"""Turns a data row into what the model is asked (system prompt, few-shot turns, the templated user turn) and its gold.
It must never fill a placeholder it cannot: a template naming a missing column is an error naming it and the row's columns."""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evalsuite.errors import DataError, EvalError, closest_column, list_columns, missing_column
from evalsuite.tasks import TASKS, Task

_FIELD = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


def template_fields(template: str) -> list[str]:
    r"""The ``{column}`` placeholders of a template, in order, each once.

    >>> template_fields(r"Q: {question}\nPut it in \boxed{}. {{literal}} {question} {level}")
    ['question', 'level']
    """
    return list(dict.fromkeys(m.group(1) for m in _FIELD.finditer(template) if m.group(1)))


def fill_template(template: str, row: dict) -> str:
    r"""``template`` with each ``{column}`` (a Python identifier in braces) replaced by the row's value.
    ``{{`` and ``}}`` are literal braces; any other brace is kept as written, so LaTeX such as ``\boxed{}``
    or ``\frac{1}{2}`` needs no escaping (but ``\text{answer}`` would be a placeholder: write
    ``\text{{answer}}``).

    >>> fill_template(r"{question} Answer in \boxed{}; {{x}} stays.", {"question": "1+1?"})
    '1+1? Answer in \\boxed{}; {x} stays.'
    """
    def replace(match: re.Match) -> str:
        token, name = match.group(0), match.group(1)
        if name is None:
            return token[0]
        if name not in row:
            guess = closest_column(name, list(map(str, row)))
            hint = f"; did you mean {{{guess}}}?" if guess else ""
            raise DataError(f"the prompt template needs column {name!r}, which this row lacks (columns found: "
                            f"{list_columns(row)}{hint}; write {{{{ and }}}} for literal braces)")
        value = row[name]
        return value if isinstance(value, str) else str(value)

    return _FIELD.sub(replace, template)


@dataclass
class PromptBuilder:
    """The run's prompting settings, applied to each row (see docs/evalsuite.md, *Prompts*).

    ``template`` (or the task's standard one) makes the user turn from the row's columns; without it the
    row's ``messages``/``prompt`` column is used as training uses it. ``shots`` are (user, assistant)
    example turns put before the user turn, in the order given; an example whose user turn equals the
    prompt's own is skipped and the next one is used. The system prompt goes first, unless the row's own
    messages start with one.
    """

    system_prompt: str | None = None
    template: str | None = None
    task: Task | None = None
    prompt_key: str = "prompt"
    messages_key: str = "messages"
    solution_key: str = "solution"
    shots: Sequence[tuple[str, str]] = field(default_factory=list)
    fewshot: int = 0

    def __post_init__(self) -> None:
        if self.template is None and self.task is not None:
            self.template = self.task.template
        if self.template is not None and not template_fields(self.template):
            raise EvalError("the prompt template has no {column} placeholder, so every prompt would be the same; "
                            "name a column, e.g. {question}")
        if self.fewshot > len(self.shots):
            raise EvalError(f"--fewshot {self.fewshot} needs at least {self.fewshot} example rows, "
                            f"the few-shot data has {len(self.shots)}")

    def messages(self, row: dict) -> list[dict]:
        """The chat messages for ``row``."""
        if self.template is not None:
            conversation = [{"role": "user", "content": fill_template(self.template, self._columns(row))}]
        elif isinstance(row, dict) and row.get(self.messages_key) is None and row.get(self.prompt_key) is None:
            raise DataError(missing_column(
                (self.prompt_key, self.messages_key), row, what="prompt", flag="--prompt-key", usual=_PROMPT_COLUMNS,
                more=f"--messages-key for chat messages, --prompt-template 'TEXT {{column}}', {_task_hint(row)}"))
        else:
            conversation = build_messages(row, prompt_key=self.prompt_key, messages_key=self.messages_key)
        head = [conversation.pop(0)] if conversation[0]["role"] == "system" else []
        if not head and self.system_prompt:
            head = [{"role": "system", "content": self.system_prompt}]
        question = _text(conversation[-1]["content"]) if conversation else ""
        shots = [turn for user, answer in self._shots_for(question)
                 for turn in ({"role": "user", "content": user}, {"role": "assistant", "content": answer})]
        return head + shots + conversation

    def source(self, row: dict) -> Any:
        """What identifies the row's prompt for its data hash: the template's columns, or the prompt column."""
        if self.template is not None:
            columns = self._columns(row)
            return {name: columns.get(name) for name in template_fields(self.template)}
        value = row.get(self.messages_key)
        return value if value is not None else row.get(self.prompt_key)

    def gold(self, row: dict) -> Any:
        """The gold answer: the task's reading of the row, or its solution column."""
        if self.task is not None:
            try:
                return self.task.gold(row)
            except EvalError as err:
                raise DataError(str(err)) from None
        if self.solution_key not in row:
            raise DataError(missing_column(self.solution_key, row, what="gold answer", flag="--solution-key",
                                           usual=GOLD_COLUMNS, more=_task_hint(row)))
        return row[self.solution_key]

    def example_turns(self, row: dict) -> tuple[str, str]:
        """A few-shot example from a row: its user turn as the prompt would be, and its worked answer."""
        messages = dataclasses.replace(self, system_prompt=None, shots=[], fewshot=0).messages(row)
        answer = self.task.target(row) if self.task is not None else str(self.gold(row))
        return _text(messages[-1]["content"]), answer

    def _columns(self, row: dict) -> dict:
        if self.task is None:
            return row
        try:
            return {**row, "question": self.task.question_text(row)}
        except EvalError as err:
            raise DataError(str(err)) from None

    def _shots_for(self, question: str) -> list[tuple[str, str]]:
        if not self.fewshot:
            return []
        return [shot for shot in self.shots if shot[0] != question][: self.fewshot]


# the names data sets give their prompt and gold columns: a missing column's message suggests the first present
_PROMPT_COLUMNS = ("question", "problem", "input", "instruction", "query", "text")
GOLD_COLUMNS = ("answer", "gold", "target", "label", "ground_truth", "final_answer", "expected_answer", "output")


def _task_hint(row: dict) -> str:
    """The preset whose question column the row has (``or a preset with --task gsm8k``), else every preset."""
    fits = [name for name, task in TASKS.items() if any(column in row for column in task.question)]
    return f"or a preset with --task {fits[0] if fits else '|'.join(TASKS)}"


def draw_shots(rows: Sequence[tuple[str, dict]], builder: PromptBuilder, count: int, seed: int,
               source: str | None) -> list[tuple[str, str]]:
    """``count + 1`` few-shot examples (one spare, for the prompt that is itself among them) from ``rows``,
    in an order fixed by ``seed`` (``random.Random(seed).sample``): the same examples for every prompt and
    every run with that seed."""
    if count <= 0:
        return []
    chosen = random.Random(seed).sample(range(len(rows)), min(len(rows), count + 1))
    shots = []
    for i in chosen:
        where, row = rows[i]
        try:
            shots.append(builder.example_turns(row))
        except DataError as err:
            raise DataError(f"{source or 'few-shot data'}, {where}: {err}") from None
    return shots


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if isinstance(p, dict))


def build_messages(
    row: dict,
    *,
    system_prompt: str | None = None,
    prompt_key: str = "prompt",
    messages_key: str = "messages",
) -> list[dict]:
    """The chat messages a row asks the model to answer, with the system prompt applied as training does.

    A ``messages`` column (or a conversational ``prompt`` column, TRL's format) is used as is; a text
    ``prompt`` becomes one user message. ``system_prompt`` is prepended as a system message unless the
    messages already start with one (the row's own system prompt wins).

    >>> build_messages({"prompt": "1+1?"}, system_prompt="Be brief.")
    [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': '1+1?'}]
    """
    if not isinstance(row, dict):
        raise DataError(f"expected a JSON object, got {type(row).__name__}")
    value = row.get(messages_key)
    key = messages_key
    if value is None:
        value, key = row.get(prompt_key), prompt_key
    if value is None:
        raise DataError(missing_column((prompt_key, messages_key), row, what="prompt"))
    if isinstance(value, str):
        if not value.strip():
            raise DataError(f"column {key!r} is empty")
        messages = [{"role": "user", "content": value}]
    elif isinstance(value, list):
        messages = [_check_message(m, key, i) for i, m in enumerate(value)]
        if not messages:
            raise DataError(f"column {key!r} is an empty list of messages")
    else:
        raise DataError(f"column {key!r} must be text or a list of messages, got {type(value).__name__}")
    if system_prompt and messages[0]["role"] != "system":
        messages.insert(0, {"role": "system", "content": system_prompt})
    return messages


def _check_message(message: Any, key: str, i: int) -> dict:
    if not isinstance(message, dict) or "role" not in message or "content" not in message:
        raise DataError(f"column {key!r}: message {i} must be an object with 'role' and 'content'")
    return dict(message)
