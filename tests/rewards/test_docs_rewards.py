"""Every ``>>>`` example in docs/rewards.md and in the rewards package docstrings runs and prints what it shows."""

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import rewards
from rewards import registry

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rewards.md"
OWN_MODULES = sorted(m.name for m in pkgutil.walk_packages(rewards.__path__, "rewards.") if not m.ispkg)


def test_docs_examples_run():
    result = doctest.testfile(str(DOCS), module_relative=False, globs={"rewards": rewards}, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 15 and result.failed == 0


@pytest.mark.parametrize("module", OWN_MODULES)
def test_docstring_examples_run(module, monkeypatch):
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))  # examples may register rewards
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
