"""Prompting: templates over row columns, files without their trailing newline, deterministic few-shot turns,
the gsm8k/math/math500/aime presets, `datasets` ids read through a local dataset repository with the hub
offline, and the warning for a model without a chat template."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from evalsuite import EvalConfig, EvalError, make_config, run
from evalsuite.backends.base import render_chat
from evalsuite.data import DataError, read_located_rows, to_examples
from evalsuite.prompting import PromptBuilder, draw_shots, fill_template, template_fields
from evalsuite.tasks import TASKS, last_boxed

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "template,row,expected",
    [
        ("{question}", {"question": "1+1?"}, "1+1?"),
        ("Q: {question}\nA:", {"question": "2+2?", "answer": "4"}, "Q: 2+2?\nA:"),
        (r"{problem} Put it in \boxed{}.", {"problem": "x?"}, r"x? Put it in \boxed{}."),  # LaTeX braces stay
        (r"\frac{1}{2} of {n} is", {"n": 8}, r"\frac{1}{2} of 8 is"),  # non-string values are str()-ed
        ("{{question}} is {question}", {"question": "q"}, "{question} is q"),  # doubled braces are literal
        ("{ question } {question}", {"question": "q"}, "{ question } q"),  # not an identifier in braces: literal
        ("{a}{b}{a}", {"a": "x", "b": "y"}, "xyx"),
    ],
)
def test_fill_template(template, row, expected):
    assert fill_template(template, row) == expected


def test_template_fields_and_a_missing_column():
    assert template_fields("{b} {a} {{c}} {b} \\boxed{}") == ["b", "a"]
    with pytest.raises(DataError) as err:
        fill_template("{question}", {"problem": "p", "answer": "1"})
    assert str(err.value) == ("the prompt template needs column 'question', which this row lacks "
                              "(columns found: problem, answer; write {{ and }} for literal braces)")
    with pytest.raises(DataError) as err:  # a near spelling is suggested
        fill_template("{Question}", {"question": "p"})
    assert str(err.value) == ("the prompt template needs column 'Question', which this row lacks "
                              "(columns found: question; did you mean {question}?; write {{ and }} for literal braces)")


def test_template_and_system_prompt_files_lose_their_trailing_newline(tmp_path):
    (tmp_path / "t.txt").write_text("Solve: {question}\n")
    (tmp_path / "s.txt").write_text("You are careful.\r\n\n")
    (tmp_path / "keep.txt").write_text("  indented {question}  \n")
    config = make_config(None, {"prompt_template": f"@{tmp_path / 't.txt'}", "system_prompt": f"@{tmp_path / 's.txt'}"})
    assert config.prompt_template == "Solve: {question}" and config.system_prompt == "You are careful."
    assert make_config(None, {"prompt_template": f"@{tmp_path / 'keep.txt'}"}).prompt_template == "  indented {question}  "
    with pytest.raises(EvalError, match="prompt template file .* does not exist"):
        make_config(None, {"prompt_template": f"@{tmp_path / 'none.txt'}"})


def _rows(count):
    return [(f"line {i + 1}", {"question": f"What is {i}+{i}?", "answer": f"{i}+{i}=<<{i}+{i}={2 * i}>>{2 * i}\n#### {2 * i}"})
            for i in range(count)]


def test_messages_put_system_then_shots_then_the_question():
    builder = PromptBuilder(system_prompt="Be careful.", template="Q: {question}", shots=[("Q: a", "A1"), ("Q: b", "A2")],
                            fewshot=2, solution_key="answer")
    assert builder.messages({"question": "c"}) == [
        {"role": "system", "content": "Be careful."},
        {"role": "user", "content": "Q: a"}, {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "Q: b"}, {"role": "assistant", "content": "A2"},
        {"role": "user", "content": "Q: c"},
    ]
    own = [{"role": "system", "content": "mine"}, {"role": "user", "content": "q"}]
    plain = PromptBuilder(system_prompt="Be careful.", shots=[("x", "y")], fewshot=1)
    assert plain.messages({"messages": own})[0] == {"role": "system", "content": "mine"}  # the row's own wins


def test_few_shot_draw_is_deterministic_and_never_shows_a_prompt_itself():
    builder = PromptBuilder(task=TASKS["gsm8k"])
    pool = _rows(20)
    a, b = draw_shots(pool, builder, 3, 0, "train.jsonl"), draw_shots(pool, builder, 3, 0, "train.jsonl")
    assert a == b and len(a) == 4 and draw_shots(pool, builder, 3, 1, "train.jsonl") != a
    for user, answer in a:
        i = int(re.match(r"What is (\d+)\+", user).group(1))
        assert user == f"What is {i}+{i}?\nPlease reason step by step, and put your final answer within \\boxed{{}}."
        assert answer == f"{i}+{i}={2 * i}\nThe final answer is $\\boxed{{{2 * i}}}$."  # no <<calculator>> notes
    shot = dataclasses.replace(builder, shots=a, fewshot=3)
    itself = {"question": a[0][0].split("\n")[0]}  # the first drawn example, asked as a prompt
    users = [m["content"] for m in shot.messages(itself) if m["role"] == "user"]
    assert users == [a[1][0], a[2][0], a[3][0], a[0][0]]  # the spare example stands in for it
    other = [m["content"] for m in shot.messages({"question": "What is 99+99?"}) if m["role"] == "user"]
    assert other[:3] == [a[0][0], a[1][0], a[2][0]]


def test_few_shot_settings_must_come_together():
    with pytest.raises(EvalError, match=r"--fewshot 5 needs at least 5 example rows, the few-shot data has 3"):
        PromptBuilder(shots=[("a", "b")] * 3, fewshot=5)
    with pytest.raises(EvalError, match=r"has no \{column\} placeholder"):
        PromptBuilder(template="Solve it.")


@pytest.mark.parametrize(
    "task,row,gold,question",
    [
        ("gsm8k", {"question": "Q?", "answer": "It is 5*2=<<5*2=10>>10.\n#### 10"}, "10", "Q?"),
        ("gsm8k", {"question": "Q?", "answer": "#### 1,234"}, "1234", "Q?"),
        ("math", {"problem": "P?", "solution": r"So $x=\boxed{\frac{\sqrt{3}}{2}}$."}, r"\frac{\sqrt{3}}{2}", "P?"),
        ("math", {"problem": "P?", "solution": r"\boxed{1} then \boxed{\{2, 3\}}"}, r"\{2, 3\}", "P?"),
        ("math500", {"problem": "P?", "solution": r"\boxed{7}", "answer": r"\left( 3, \frac{\pi}{2} \right)"},
         r"\left( 3, \frac{\pi}{2} \right)", "P?"),
        ("aime", {"problem": "A?", "answer": "023"}, "23", "A?"),
        ("aime", {"Problem": "A?", "Answer": 204}, "204", "A?"),
    ],
)
def test_task_presets_read_the_gold_and_the_question(task, row, gold, question):
    (example,) = to_examples([("row 1", row)], source="d", prompts=PromptBuilder(task=TASKS[task]))
    assert example.solution == gold
    assert example.messages == [{"role": "user", "content": f"{question}\nPlease reason step by step, and put your "
                                                            "final answer within \\boxed{}."}]


@pytest.mark.parametrize(
    "task,row,message",
    [
        ("gsm8k", {"question": "Q?", "answer": "10"}, "column 'answer' has no '#### N' final answer line (GSM8K format)"),
        ("gsm8k", {"question": "Q?"}, "missing column 'answer' (the gold answer); columns found: question"),
        ("math", {"problem": "P?", "solution": "It is 3."}, "column 'solution' has no \\boxed{...} final answer (MATH format)"),
        ("math500", {"question": "P?", "answer": "1"}, "missing column 'problem' (the question); columns found: question, answer"),
        ("aime", {"problem": "A?", "answer": " "}, "column 'answer' is empty"),
    ],
)
def test_task_rows_without_a_readable_gold_are_refused(task, row, message):
    with pytest.raises(DataError) as err:
        to_examples([("line 4", row)], source="d.jsonl", prompts=PromptBuilder(task=TASKS[task]))
    assert str(err.value) == f"d.jsonl, line 4: {message}"


@pytest.mark.parametrize(
    "text,expected",
    [
        (r"\boxed{5}", "5"),
        (r"\boxed{a} and \boxed{b}", "b"),
        (r"\fbox{x^{2}}", "x^{2}"),
        (r"\boxed {3}", "3"),
        (r"\boxed{unclosed", None),
        (r"\boxed{ok} \boxed{unclosed", "ok"),
        ("plain 5", None),
    ],
)
def test_last_boxed(text, expected):
    assert last_boxed(text) == expected


def _gsm8k_repository(root: Path) -> Path:
    """A dataset repository laid out as the hub's openai/gsm8k is: a README declaring configs, parquet files."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    repo = root / "openai" / "gsm8k"
    (repo / "main").mkdir(parents=True)
    (repo / "README.md").write_text(
        "---\nconfigs:\n- config_name: main\n  data_files:\n  - split: train\n    path: main/train-*.parquet\n"
        "  - split: test\n    path: main/test-*.parquet\n- config_name: socratic\n  data_files:\n"
        "  - split: test\n    path: main/test-*.parquet\n---\n")
    rows = [row for _, row in _rows(8)]
    pq.write_table(pa.Table.from_pylist(rows), repo / "main" / "train-00000-of-00001.parquet")
    pq.write_table(pa.Table.from_pylist(rows[:3]), repo / "main" / "test-00000-of-00001.parquet")
    return repo


def _offline_env(tmp_path):
    return dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
                HF_HOME=str(tmp_path / "hf-home"))


def test_a_datasets_id_is_read_with_load_dataset_offline(tmp_path):
    """`ID[:CONFIG]::SPLIT` goes through datasets.load_dataset; here the id names a local repository folder
    and the hub is switched off, so the real code path runs without a network."""
    _gsm8k_repository(tmp_path)
    code = (
        "import json; from evalsuite.data import read_located_rows, DataError\n"
        "out = {'rows': [r for _, r in read_located_rows('openai/gsm8k::test', hub_config='main')],\n"
        "       'config': len(read_located_rows('openai/gsm8k:socratic::test')), 'errors': []}\n"
        "for spec in ('openai/gsm8k::test', 'openai/gsm8k:main', 'openai/gsm8k:main::dev', 'nobody/nothing::test'):\n"
        "    try: read_located_rows(spec)\n"
        "    except DataError as err: out['errors'].append(str(err))\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_offline_env(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert [r["question"] for r in out["rows"]] == ["What is 0+0?", "What is 1+1?", "What is 2+2?"]
    assert out["config"] == 3
    assert out["errors"][:3] == [
        "openai/gsm8k::test: choose a config with ID:config::split; configs: main, socratic",
        "openai/gsm8k:main: choose a split with ID::split; splits: train, test",
        "openai/gsm8k:main::dev: no split 'dev'; splits: train, test",
    ]
    assert out["errors"][3].startswith("nobody/nothing::test: not a local file, and `datasets` could not open it "
                                       "as a hub dataset (")


@pytest.mark.slow
def test_gsm8k_task_from_a_datasets_id_with_few_shot_end_to_end(tiny_model, tmp_path):
    _gsm8k_repository(tmp_path)
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "evalsuite", "run", "--model", str(tiny_model), "--data", "openai/gsm8k::test",
            "--task", "gsm8k", "--fewshot", "2", "--fewshot-data", "openai/gsm8k::train", "--max-tokens", "3",
            "--system-prompt", "Be brief.", "--output-dir", str(out), "--no-progress"]
    done = subprocess.run(argv, cwd=tmp_path, env=_offline_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    records = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert [r["solution"] for r in records] == ["0", "2", "4"]
    roles = [m["role"] for m in records[1]["prompt"]]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    shot = records[1]["prompt"][2]["content"]
    i = int(re.match(r"(\d+)\+", shot).group(1))
    assert shot == f"{i}+{i}={2 * i}\nThe final answer is $\\boxed{{{2 * i}}}$."  # calculator notes removed
    assert records[1]["prompt"][-1]["content"].startswith("What is 1+1?\nPlease reason step by step")
    settings = json.loads((out / "run.json").read_text())
    assert settings["task"] == "gsm8k" and settings["fewshot"] == 2 and "prompt_template" not in settings


class _NoTemplate:
    chat_template = None
    name_or_path = "base-model"


def test_a_model_without_a_chat_template_is_warned_about_once(caplog):
    tokenizer = _NoTemplate()
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "Q1"},
                {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"}]
    with caplog.at_level(logging.WARNING, logger="evalsuite.backends.base"):
        assert render_chat(tokenizer, messages) == "S\n\nQ1\n\nA1\n\nQ2"
        render_chat(tokenizer, messages)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["base-model has no chat template: each prompt is its messages' contents joined by blank "
                        "lines (a base-model prompt; see docs/evalsuite.md, Prompts)"]


def test_template_placeholders_missing_from_the_data_name_the_line(tmp_path, write_jsonl):
    data = write_jsonl(tmp_path / "d.jsonl", [{"question": "q", "solution": "1"}, {"problem": "p", "solution": "2"}])
    with pytest.raises(DataError, match=r"d\.jsonl, line 2: the prompt template needs column 'question'"):
        run(EvalConfig(model=str(tmp_path), data=str(data), prompt_template="{question}"), progress=False)
    (example,) = to_examples(read_located_rows(data)[:1], source=str(data),
                             prompts=PromptBuilder(template="Solve {question}"))
    assert example.messages == [{"role": "user", "content": "Solve q"}] and example.solution == "1"
