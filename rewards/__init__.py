"""grpokit rewards: total, exact, picklable reward functions for GRPO, importable into any trainer.
This package must never import torch."""

from rewards.equivalence import verify
from rewards.extract import extract_answer
from rewards.registry import get, names, parameters, register

__all__ = ["extract_answer", "get", "names", "parameters", "register", "verify"]
