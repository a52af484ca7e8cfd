"""The light install (`pip install grpokit`, no extras) in a fresh venv: rewards, `evalsuite score` and the one-line
hints for what needs an extra. Run with that venv's python from outside the checkout (`make test-light` does)."""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import rewards

BIN = Path(sys.executable).parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / args[0]), *args[1:]], capture_output=True, text=True, timeout=300)


def main() -> None:
    assert "site-packages" in rewards.__file__, rewards.__file__  # the installed wheel, not the checkout
    assert rewards.verify(r"so the answer is \boxed{\frac12}", "0.5") is True
    assert rewards.verify("Either 6 or 7 works.", "7") is False
    assert rewards.verify(r"\boxed{\sin^2 x + \cos^2 x}", "1") is True  # the SymPy workers run here too
    assert rewards.get("accuracy")(["<answer>4</answer>", "5"], solution=["4", "4"]) == [1.0, 0.0]
    assert "torch" not in sys.modules
    with tempfile.TemporaryDirectory() as folder:
        samples = Path(folder) / "samples.jsonl"
        rows = [{"id": str(i), "prompt": f"{i}+1?", "solution": str(i + 1),
                 "completions": [f"<think>.</think><answer>{i + 1}</answer>", "<answer>0</answer>"]} for i in range(3)]
        samples.write_text("".join(json.dumps(row) + "\n" for row in rows))
        scored = run("evalsuite", "score", str(samples), "--rewards", "accuracy,format", "--output-dir", folder)
        assert scored.returncode == 0, scored.stderr
        assert json.loads((Path(folder) / "summary.json").read_text())["metrics"]["accuracy"] == 0.5
        for command, hint in ((["evalsuite", "run", "--model", folder, "--data", str(samples)], "grpokit[eval]"),
                              (["grpo-train", str(samples), "--check"], "grpokit[train]")):
            result = run(*command)
            assert result.returncode == 2 and result.stderr.strip().endswith(f"pip install '{hint}'"), result.stderr
            assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    print("light install: ok")


if __name__ == "__main__":
    main()
