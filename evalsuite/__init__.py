"""evalsuite: evaluates a model on a data set with the same rewards used in training; resumable runs.
It must never import torch or a backend at import time: `evalsuite score` runs without them."""

from evalsuite.config import EvalConfig, make_config
from evalsuite.data import load_rows
from evalsuite.errors import DataError, EvalError
from evalsuite.prompting import build_messages
from evalsuite.runner import compare, run, score

__all__ = ["DataError", "EvalConfig", "EvalError", "build_messages", "compare", "load_rows", "make_config", "run", "score"]
