"""grpokit rewards: total, exact, picklable reward functions for GRPO, importable into any trainer.
This package must never import torch."""

from rewards.accuracy_rewards import accuracy, exact_match
from rewards.answers import (
    Outcome,
    Status,
    VerifyConfig,
    extract_answer,
    grade,
    grade_batch,
    stats,
    timeout_count,
    verify,
    verify_batch,
    warm_up,
)
from rewards.combination import combine
from rewards.explanation import explain
from rewards.format_rewards import format, format_partial, reasoning_steps, tag_count
from rewards.length_rewards import cosine, length, length_penalty, soft_overlong
from rewards.registry import get, names, parameters, register
from rewards.repetition_rewards import repetition
from rewards.sets_rewards import iou

__all__ = [
    "Outcome",
    "Status",
    "VerifyConfig",
    "accuracy",
    "combine",
    "cosine",
    "exact_match",
    "explain",
    "extract_answer",
    "format",
    "format_partial",
    "get",
    "grade",
    "grade_batch",
    "iou",
    "length",
    "length_penalty",
    "names",
    "parameters",
    "reasoning_steps",
    "register",
    "repetition",
    "soft_overlong",
    "stats",
    "tag_count",
    "timeout_count",
    "verify",
    "verify_batch",
    "warm_up",
]
