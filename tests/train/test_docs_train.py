"""The `>>>` examples in the launcher's modules run as tests, so the documented behaviour is the real one.
They must stay model-free: a docstring example that needs weights belongs in a training test instead."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["train.fields", "train.frames", "train.callbacks", "train.modeling", "train.recipe", "train.errors",
           "train.run_dir", "train.demo",
           "train.join_vision", "train.plots"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0
