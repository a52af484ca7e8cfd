"""Shared fixtures for the evalsuite tests: one tiny random chat model per session and small data files.
They must never reach the network: the model is built locally by fixtures.tiny."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    pytest.importorskip("torch")
    from fixtures.tiny import build_text_model

    return build_text_model(tmp_path_factory.mktemp("tiny") / "model")


def _write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _sums(count: int) -> list[dict]:
    return [{"prompt": f"What is {i}+{i + 1}?", "solution": str(2 * i + 1)} for i in range(count)]


@pytest.fixture
def write_jsonl():
    """``write_jsonl(path, rows) -> path``."""
    return _write_jsonl


@pytest.fixture
def sums():
    """``sums(count)``: addition prompts with gold answers."""
    return _sums


@pytest.fixture
def sums_file(tmp_path) -> Path:
    return _write_jsonl(tmp_path / "sums.jsonl", _sums(6))
