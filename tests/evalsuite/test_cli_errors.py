"""Every bad input gets exactly one line on stderr naming the file, the line and the problem, and exit 2."""

from __future__ import annotations

import json

import pytest

from evalsuite.cli import main


@pytest.fixture
def model_dir(tmp_path):
    """A folder that exists (the errors below are raised before any model is loaded)."""
    d = tmp_path / "model"
    d.mkdir()
    return d


def _error(capsys, argv) -> str:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    assert code == 2, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err  # one line, never a traceback
    assert lines[0].startswith("evalsuite: error: ")
    return lines[0][len("evalsuite: error: "):]


def _data(tmp_path, text, name="data.jsonl"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_malformed_json_line(tmp_path, capsys, model_dir):
    data = _data(tmp_path, '{"prompt": "a", "solution": "1"}\n{"prompt": "b", "solution": 2\n')
    msg = _error(capsys, ["run", "--model", model_dir, "--data", data])
    assert msg == f"{data}, line 2: malformed JSON (Expecting ',' delimiter at column 30)"


def test_missing_data_file(tmp_path, capsys, model_dir):
    msg = _error(capsys, ["run", "--model", model_dir, "--data", tmp_path / "none.jsonl"])
    assert msg == f"{tmp_path / 'none.jsonl'}: no such file or directory"


def test_missing_model_path(tmp_path, capsys, sums_file):
    msg = _error(capsys, ["run", "--model", tmp_path / "no-model", "--data", sums_file, "--output-dir", tmp_path / "o"])
    assert msg == f"model path '{tmp_path / 'no-model'}' does not exist"
    assert not (tmp_path / "o" / "run.json").exists()  # a failed start leaves nothing to trip a rerun


def test_unknown_reward_name(tmp_path, capsys, model_dir, sums_file):
    msg = _error(capsys, ["run", "--model", model_dir, "--data", sums_file, "--rewards", "accuracy,acuracy"])
    assert msg.startswith("unknown reward 'acuracy' (did you mean 'accuracy'?); valid rewards: ")


def test_unknown_reward_parameter(tmp_path, capsys, model_dir, sums_file):
    msg = _error(capsys, ["run", "--model", model_dir, "--data", sums_file, "--rewards", "cosine",
                          "--reward-params", '{"cosine": {"max_lenn": 3}}'])
    assert msg.startswith("unknown parameter(s) max_lenn for reward 'cosine'")


def test_reward_params_for_unrequested_reward(tmp_path, capsys, model_dir, sums_file):
    msg = _error(capsys, ["run", "--model", model_dir, "--data", sums_file, "--reward-params", '{"cosine": {}}'])
    assert msg == "reward_params given for reward(s) not requested: cosine"


@pytest.mark.parametrize(
    "flags,message",
    [
        (["--n", "0"], "n must be >= 1, got 0"),
        (["--temperature", "-1"], "temperature must be >= 0, got -1.0"),
        (["--top-p", "0"], "top_p must be in (0, 1], got 0.0"),
        (["--max-tokens", "0"], "max_tokens must be >= 1, got 0"),
        (["--k", "1,x"], "k must be whole numbers like 1,4,8, got '1,x'"),
        (["--k", "0"], "every k must be >= 1, got [0]"),
        (["--limit", "-1"], "limit must be >= 0, got -1"),
        (["--rewards", ","], "give at least one reward name"),
        (["--k", "1,4"], "pass@4 needs at least 4 samples per prompt; use --n 4 or more"),
        (["--fewshot", "2"], "--fewshot 2 needs --fewshot-data FILE (e.g. the benchmark's train split)"),
        (["--fewshot-data", "train.jsonl"], "--fewshot-data is given but --fewshot is 0; set --fewshot N"),
        (["--fewshot", "-1"], "fewshot must be >= 0, got -1"),
        (["--task", "mmlu"], "unknown task 'mmlu'; choose one of: gsm8k, math, math500, aime"),
        (["--task", "gsm8k", "--solution-key", "gold"],
         "--solution-key cannot be combined with --task gsm8k: the task reads the gold answer itself"),
        (["--tensor-parallel-size", "2"],
         "--tensor-parallel-size is a vLLM setting; add --backend vllm, or leave it out for the transformers backend"),
        (["--gpu-memory-utilization", "0.5"],
         "--gpu-memory-utilization is a vLLM setting; add --backend vllm, or leave it out for the transformers backend"),
        (["--backend", "vllm", "--device", "cuda"],
         "--device is a transformers setting; vLLM places the model on the GPUs that CUDA_VISIBLE_DEVICES shows"),
        (["--prompt-template", "Solve it."],
         "the prompt template has no {column} placeholder, so every prompt would be the same; name a column, e.g. {question}"),
    ],
)
def test_bad_settings(tmp_path, capsys, model_dir, sums_file, flags, message):
    assert _error(capsys, ["run", "--model", model_dir, "--data", sums_file, *flags]) == message


def test_yaml_errors(tmp_path, capsys):
    cfg = _data(tmp_path, "model: m\ntemprature: 1\n", "run.yaml")
    msg = _error(capsys, ["run", "--config", cfg])
    assert msg.startswith(f"{cfg}: unknown setting(s) temprature; valid: model, data, backend,")
    cfg = _data(tmp_path, "model: [m\n", "bad.yaml")
    assert _error(capsys, ["run", "--config", cfg]).startswith(f"{cfg}, line 2: malformed YAML")
    cfg = _data(tmp_path, "- a\n", "list.yaml")
    assert _error(capsys, ["run", "--config", cfg]) == f"{cfg}: expected a mapping of settings, got list"
    assert _error(capsys, ["run", "--config", tmp_path / "none.yaml"]) == f"config file '{tmp_path / 'none.yaml'}' does not exist"


def test_system_prompt_file_missing(tmp_path, capsys, model_dir, sums_file):
    msg = _error(capsys, ["run", "--model", model_dir, "--data", sums_file, "--system-prompt", f"@{tmp_path}/sp.txt"])
    assert msg == f"system prompt file '{tmp_path}/sp.txt' does not exist"


def test_no_model_no_data(capsys, sums_file):
    assert _error(capsys, ["run", "--data", sums_file]) == "no model given (--model PATH)"


def test_score_errors(tmp_path, capsys):
    good = {"id": 0, "solution": "1", "completions": ["<answer>1</answer>"]}
    cases = [
        ('{"id": 0, "solution": "1", "completions": []}\n', "line 1: empty completions list"),
        (json.dumps(good) + '\n{"id": 1, "solution": "1"}\n', "line 2: missing field 'completions'"),
        (json.dumps(good) + '\n{"id": 1, "solution": "1", "completions": [1]}\n', "line 2: 'completions' must be a list of strings"),
        (json.dumps(good) + "\n" + json.dumps(good) + "\n", "line 2: duplicate id 0 (also on line 1)"),
        (json.dumps(good) + '\n{"id": 1, "solution": "1", "completions": ["a"], "lengths": [1, 2]}\n',
         "line 2: 'lengths' must have one entry per completion (1)"),
        ('{"id": 0, "completions": ["x"]}\n', "line 1: missing field 'solution' (the gold answer); fields found: id, "
                                           "completions; choose it with --solution-key"),
        ('{"id": 0, \n', "line 1: malformed JSON (Expecting property name enclosed in double quotes at column 11)"),
    ]
    for i, (text, problem) in enumerate(cases):
        f = _data(tmp_path, text, f"s{i}.jsonl")
        assert _error(capsys, ["score", f]) == f"{f}, {problem}"
    assert _error(capsys, ["score", tmp_path / "none.jsonl"]) == f"{tmp_path / 'none.jsonl'}: no such file"
    f = _data(tmp_path, json.dumps(good) + "\n", "ok.jsonl")
    assert _error(capsys, ["score", f, "--rewards", "nope"]).startswith("unknown reward 'nope'")
    assert _error(capsys, ["score", f, "--k", "0"]) == "every k must be >= 1, got [0]"
    empty = _data(tmp_path, "", "empty.jsonl")
    assert _error(capsys, ["score", empty]) == f"{empty}: no records to score"


def test_compare_errors(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    assert _error(capsys, ["compare", tmp_path / "a", tmp_path / "b"]).startswith(f"{tmp_path / 'a'}: no summary.json")
    (tmp_path / "a" / "summary.json").write_text("{}")
    msg = _error(capsys, ["compare", tmp_path / "a", tmp_path / "a"])
    assert msg == f"{tmp_path / 'a' / 'summary.json'}: not an evalsuite summary (no 'metrics' object)"
    (tmp_path / "a" / "summary.json").write_text('{"metrics": {}}')
    assert _error(capsys, ["compare", tmp_path / "a", tmp_path / "b"]) == f"{tmp_path / 'b'}: no such folder"


def test_bad_reward_params_json_is_an_argparse_error(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--reward-params", "{bad"])
    assert exit_.value.code == 2
    assert "not valid JSON" in capsys.readouterr().err


NO_CUDA_BUILD = "--device cuda: this torch build has no CUDA (torch {torch}); use --device cpu, or install a CUDA build of torch"
NO_GPU = "--device cuda: no CUDA GPU is visible (torch {torch}); use --device cpu, or install a CUDA build of torch"


@pytest.mark.parametrize(
    "device,message",
    [
        ("cuda", None),  # the message for this torch: a CPU build, or a CUDA build on a machine without a GPU
        ("gpu", "--device 'gpu' is not a torch device; use cpu, cuda, cuda:1, mps, ..."),
    ],
)
def test_a_device_this_torch_cannot_use(tmp_path, capsys, model_dir, sums_file, device, message):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is visible")
    message = message or (NO_CUDA_BUILD if torch.version.cuda is None else NO_GPU)
    out = tmp_path / "o"
    msg = _error(capsys, ["run", "--model", model_dir, "--data", sums_file, "--device", device, "--output-dir", out])
    assert msg == message.format(torch=torch.__version__)
    assert not (out / "run.json").exists()
