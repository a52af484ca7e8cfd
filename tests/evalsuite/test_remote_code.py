"""`evalsuite run --trust-remote-code`: a model folder that ships its own Python code loads only when asked to,
and without the flag the error is one line that names it."""

from __future__ import annotations

import shutil
import sys

import pytest

from evalsuite.cli import main

pytestmark = pytest.mark.slow

MODULE = '''
from transformers import Qwen2Config, Qwen2ForCausalLM


class TinyRemoteConfig(Qwen2Config):
    model_type = "tiny_remote"


class TinyRemoteForCausalLM(Qwen2ForCausalLM):
    config_class = TinyRemoteConfig
'''


@pytest.fixture(scope="module")
def remote_model(tiny_model, tmp_path_factory):
    """The tiny model re-saved as a custom architecture whose code lives in the folder (auto_map)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    root = tmp_path_factory.mktemp("remote")
    (root / "tiny_remote_code.py").write_text(MODULE)
    sys.path.insert(0, str(root))
    try:
        import tiny_remote_code as module
    finally:
        sys.path.remove(str(root))
    module.TinyRemoteConfig.register_for_auto_class()
    module.TinyRemoteForCausalLM.register_for_auto_class("AutoModelForCausalLM")
    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    model = module.TinyRemoteForCausalLM(module.TinyRemoteConfig(**base.config.to_dict()))
    model.load_state_dict(base.state_dict())
    model.generation_config = base.generation_config
    out = root / "model"
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_model).save_pretrained(out)
    shutil.rmtree(root / "__pycache__", ignore_errors=True)
    sys.modules.pop("tiny_remote_code", None)
    return out


def test_a_remote_code_model_needs_the_flag(remote_model, sums_file, tmp_path, capsys):
    args = ["run", "--model", str(remote_model), "--data", str(sums_file), "--limit", "2", "--max-tokens", "2",
            "--no-progress"]
    assert main([*args, "--output-dir", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--trust-remote-code" in err
    assert main([*args, "--output-dir", str(tmp_path / "b"), "--trust-remote-code"]) == 0
    assert (tmp_path / "b" / "summary.json").is_file()
