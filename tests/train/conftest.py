"""Shared fixtures for the train tests: a tiny random text model and the arithmetic data, built once per worker.
They must never touch the network or write outside pytest's temporary folders."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread_per_xdist_worker():
    """`pytest -n 2` on two cores: two workers with two torch threads each thrash (measured 4x slower)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)


@pytest.fixture(scope="session")
def arithmetic_data(tmp_path_factory):
    from fixtures import arithmetic

    return arithmetic.build(tmp_path_factory.mktemp("arith"), n_heldout=16)


@pytest.fixture(scope="session")
def tiny_text_model(tmp_path_factory):
    from fixtures import arithmetic, tiny

    return tiny.build_text_model(
        tmp_path_factory.mktemp("tiny-model"), corpus=arithmetic.corpus(), hidden_size=64, num_layers=2
    )
