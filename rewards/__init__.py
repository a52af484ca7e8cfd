"""grpokit rewards: total, exact, picklable reward functions for GRPO, importable into any trainer.
This package must never import torch."""

from rewards.accuracy import accuracy, exact_match
from rewards.combine import combine
from rewards.equivalence import timeout_count, verify, warm_up
from rewards.explain import explain
from rewards.extract import extract_answer
from rewards.format import format, format_partial, reasoning_steps, tag_count
from rewards.length import cosine, length, length_penalty, soft_overlong
from rewards.registry import get, names, parameters, register
from rewards.repetition import repetition
from rewards.sets import iou

__all__ = [
    "accuracy",
    "combine",
    "cosine",
    "exact_match",
    "explain",
    "extract_answer",
    "format",
    "format_partial",
    "get",
    "iou",
    "length",
    "length_penalty",
    "names",
    "parameters",
    "reasoning_steps",
    "register",
    "repetition",
    "soft_overlong",
    "tag_count",
    "timeout_count",
    "verify",
    "warm_up",
]
