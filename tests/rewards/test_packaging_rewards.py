"""The wheel: what ``pip install grpokit`` puts on a user's machine (built here with ``pip wheel --no-deps``).
fixtures/ stays out, the ``rewards`` console script and the ``serve`` extra are declared."""

import importlib.metadata
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """A wheel built from a copy of the sources (so no build/ folder lands in the working tree)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("rewards", "evalsuite", "train", "fixtures"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    # this environment's setuptools when it is new enough (offline); else pip fetches pyproject's build requirement
    isolation = ["--no-build-isolation"] if _setuptools_major() >= 77 else []
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-q",
                           "-w", str(work / "dist"), str(source)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = (work / "dist").glob("grpokit-*.whl")
    return zipfile.ZipFile(built)


def _setuptools_major() -> int:
    try:
        return int(importlib.metadata.version("setuptools").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        return 0


def test_wheel_installs_only_our_three_packages(wheel):
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert tops == {"rewards", "evalsuite", "train", next(t for t in tops if t.endswith(".dist-info"))}
    assert not [name for name in wheel.namelist() if name.startswith("fixtures/") or "/fixtures/" in name]


@pytest.mark.parametrize("path", ["rewards/serve.py", "rewards/cli.py", "rewards/adapters/openrlhf.py",
                                  "rewards/answers/engine.py", "train/recipes/arithmetic_demo.yaml"])
def test_wheel_keeps_modules_and_package_data(wheel, path):
    assert path in wheel.namelist()


def test_wheel_declares_the_rewards_script_and_the_serve_extra(wheel):
    info = next(name.split("/")[0] for name in wheel.namelist() if name.endswith(".dist-info/METADATA"))
    entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    assert "rewards = rewards.cli:main" in entry_points and "evalsuite = evalsuite.cli:main" in entry_points
    metadata = wheel.read(f"{info}/METADATA").decode()
    assert "Provides-Extra: serve" in metadata
    for package in ("starlette", "granian", "prometheus_client"):
        assert any(line.startswith(f"Requires-Dist: {package}") and 'extra == "serve"' in line
                   for line in metadata.splitlines()), package
