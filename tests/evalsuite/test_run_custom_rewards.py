"""`--rewards module:function` and `--imports` in evalsuite: found beside the data file without PYTHONPATH, scored
and reported like built-in rewards, and every mistake one line."""

from __future__ import annotations

import json
import sys
import uuid

import pytest

from evalsuite.cli import main

RECORDS = [{"id": i, "solution": str(i), "completions": [f"<answer>{i}</answer>", "x" * 40]} for i in range(3)]


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A data folder with a samples file and a user's reward module; the working directory is elsewhere."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    name = f"my_rewards_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "evals"
    folder.mkdir()
    (folder / f"{name}.py").write_text(
        "import rewards\n\n"
        "def brevity(completions, max_chars=20, **kwargs):\n"
        "    return [1.0 if len(c) <= max_chars else 0.0 for c in completions]\n\n"
        "@rewards.register('shout_" + name + "')\n"
        "def shout(completions, **kwargs):\n"
        "    return [float(c.isupper()) for c in completions]\n"
    )
    samples = folder / "samples.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    yield name, samples
    for key in [k for k in sys.modules if k.startswith(name)]:
        del sys.modules[key]


def test_module_function_rewards_beside_the_data_file(workspace, capsys):
    name, samples = workspace
    spec = f"{name}:brevity"
    code = main(["score", str(samples), "--rewards", f"accuracy,{spec}",
                 "--reward-params", json.dumps({spec: {"max_chars": 30}})])
    assert code == 0, capsys.readouterr().err
    summary = json.loads((samples.parent / "summary.json").read_text())
    assert summary["metrics"][f"reward/{spec}"] == pytest.approx(0.5)
    record = json.loads(samples.read_text().splitlines()[0])
    assert record["rewards"][spec] == [1.0, 0.0]
    assert f"reward/{spec}" in capsys.readouterr().out


def test_imports_register_rewards_used_by_name(workspace, capsys):
    name, samples = workspace
    assert main(["score", str(samples), "--imports", name, "--rewards", f"shout_{name}"]) == 0, capsys.readouterr().err
    summary = json.loads((samples.parent / "summary.json").read_text())
    assert summary["metrics"][f"reward/shout_{name}"] == 0.0


@pytest.mark.parametrize(
    "flags,message",
    [
        (["--rewards", "nowhere_xyz:f"], "reward 'nowhere_xyz:f': no module named 'nowhere_xyz' (not installed, and not in "),
        (["--rewards", "{m}:brevety"], "reward '{m}:brevety': module '{m}' has no attribute 'brevety' (did you mean 'brevity'?)"),
        (["--rewards", "{m}:brevity", "--reward-params", '{{"{m}:brevity": {{"max_char": 3}}}}'],
         "reward '{m}:brevity': unknown parameter(s) max_char (did you mean 'max_chars'?); valid parameters: max_chars"),
        (["--imports", "nowhere_xyz"], "--imports 'nowhere_xyz': no module named 'nowhere_xyz' (not installed, and not in "),
    ],
)
def test_mistakes_are_one_line(workspace, capsys, flags, message):
    name, samples = workspace
    code = main(["score", str(samples), *[f.format(m=name) for f in flags]])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("evalsuite: error: " + message.format(m=name))
