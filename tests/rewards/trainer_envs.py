"""Builds the trainers' own environments the adapter tests run in (``make trainer-envs``; CI runs it): verl 0.9.1
with OpenRLHF 0.11.2 (``--no-deps``: it pins a flash-attn that only builds from source) in ``verl/``, and ms-swift
4.6.0 with ``msgspec`` (which ms-swift needs and does not declare) in ``swift/``, each with CPU torch 2.13.0 and
grpokit's own dependencies (the tests put the checkout first on ``PYTHONPATH``). Standard library only:

    python3 tests/rewards/trainer_envs.py build [verl|swift ...]    # under $GRPOKIT_TRAINER_ENVS
    python3 tests/rewards/trainer_envs.py where                      # the folder

An environment is kept (cached) while its pins and grpokit's dependencies stay the same: a stamp file named by
their hash marks it complete. ``GRPOKIT_TORCH_INDEX`` adds pip arguments to every install, e.g. outside an image
whose pip finds CPU wheels locally: ``--extra-index-url https://download.pytorch.org/whl/cpu`` (else
``torch==2.13.0`` pulls the CUDA build and its nvidia packages).
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TORCH = "torch==2.13.0"
# name: (packages installed with their dependencies, packages installed without, modules that must import)
ENVS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "verl": (["verl==0.9.1"], ["openrlhf==0.11.2"], ["verl", "openrlhf.utils.agent", "aiohttp"]),
    "swift": (["ms-swift==4.6.0", "msgspec"], [], ["swift.rewards", "swift.rl_core.grpo_algorithm"]),
}


def envs_root() -> Path:
    """``$GRPOKIT_TRAINER_ENVS``, else ``~/.cache/grpokit/trainer-envs``."""
    return Path(os.environ.get("GRPOKIT_TRAINER_ENVS") or Path.home() / ".cache" / "grpokit" / "trainer-envs")


def python_of(name: str) -> Path:
    """The interpreter of environment ``name`` (``$GRPOKIT_VERL_PYTHON`` / ``$GRPOKIT_SWIFT_PYTHON`` win)."""
    override = os.environ.get(f"GRPOKIT_{name.upper()}_PYTHON")
    return Path(override) if override else envs_root() / name / "bin" / "python"


def our_dependencies() -> list[str]:
    """grpokit's core dependencies, read from pyproject.toml ([project] dependencies)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M)
    return re.findall(r'^\s*"([^"]+)"', block.group(1), re.M) if block else []


def stamp(name: str, index: list[str]) -> Path:
    with_deps, without, _ = ENVS[name]
    key = "\n".join([TORCH, *with_deps, "--no-deps", *without, *our_dependencies(), *index, sys.version])
    return envs_root() / name / f".grpokit-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def build(name: str) -> float:
    """Build environment ``name`` unless its stamp says it is complete; the seconds it took (0 when cached)."""
    index = shlex.split(os.environ.get("GRPOKIT_TORCH_INDEX", ""))
    done = stamp(name, index)
    if done.exists():
        print(f"trainer env {name}: cached at {done.parent}", flush=True)
        return 0.0
    started = time.monotonic()
    folder = envs_root() / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with_deps, without, modules = ENVS[name]
    python = str(folder / "bin" / "python")
    steps = [[sys.executable, "-m", "venv", str(folder)],
             [python, "-m", "pip", "install", "-q", "--upgrade", "pip"],
             # torch in the same command as everything that depends on it, so nothing pulls another build
             [python, "-m", "pip", "install", "-q", *index, TORCH, *with_deps, *our_dependencies()]]
    if without:
        steps.append([python, "-m", "pip", "install", "-q", "--no-deps", *without])
    steps.append([python, "-c", "; ".join(f"import {m}" for m in modules)])
    for step in steps:
        print("+ " + " ".join(shlex.quote(part) for part in step), flush=True)
        subprocess.run(step, check=True)
    done.touch()
    seconds = time.monotonic() - started
    print(f"trainer env {name}: built in {seconds:.0f} s at {folder}", flush=True)
    return seconds


def main(argv: list[str]) -> int:
    if argv[:1] == ["where"]:
        print(envs_root())
        return 0
    if argv[:1] != ["build"] or any(name not in ENVS for name in argv[1:]):
        print(f"usage: trainer_envs.py build [{'|'.join(ENVS)} ...] | where", file=sys.stderr)
        return 2
    try:
        total = sum(build(name) for name in argv[1:] or list(ENVS))
    except subprocess.CalledProcessError as err:
        print(f"trainer_envs.py: error: {' '.join(map(str, err.cmd[:4]))} ... failed with status {err.returncode}",
              file=sys.stderr)
        return 1
    print(f"trainer envs ready under {envs_root()} ({total:.0f} s building)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
