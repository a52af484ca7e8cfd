"""The sampling defaults have one home, `Sampling` (evalsuite/backends/base.py): `EvalConfig` and the CLI's help read
them there, and reading the config never imports torch, transformers or vLLM."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from evalsuite.backends.base import Sampling
from evalsuite.cli import build_parser
from evalsuite.config import EvalConfig

ROOT = Path(__file__).resolve().parents[2]
SAMPLING_FIELDS = [f.name for f in dataclasses.fields(Sampling)]
CONFIG_DEFAULTS = {f.name: f.default for f in dataclasses.fields(EvalConfig)}


@pytest.mark.parametrize("name", SAMPLING_FIELDS)
def test_every_sampling_setting_is_a_config_setting_with_the_same_default(name):
    assert name in CONFIG_DEFAULTS
    assert CONFIG_DEFAULTS[name] == getattr(Sampling(), name)


def test_a_config_hands_its_own_values_to_the_backends():
    config = EvalConfig(n=4, temperature=0.7, top_p=0.9, top_k=20, max_tokens=64, seed=3, stop=["###"], k=(1, 4))
    assert config.sampling() == Sampling(n=4, temperature=0.7, top_p=0.9, top_k=20, max_tokens=64, seed=3, stop=("###",))
    assert EvalConfig().sampling() == Sampling()


@pytest.mark.parametrize("help_line", [f"--n N samples per prompt (default {Sampling.n})",
                                       f"--max-tokens MAX_TOKENS completion token budget (default {Sampling.max_tokens})"])
def test_the_help_states_the_default_backends_use(capsys, help_line):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    assert help_line in " ".join(capsys.readouterr().out.split())


def test_reading_settings_imports_no_model_library():
    code = ("import sys, evalsuite.config, evalsuite.cli; "
            "print(sorted(m for m in ('torch', 'transformers', 'vllm') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
