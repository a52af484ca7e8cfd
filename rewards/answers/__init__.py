"""The answer engine behind ``rewards.verify``: parse (extract, normalize) then compare (exact numbers,
algebra, SymPy in worker processes). It must never raise to a caller, nor answer "equal" when unsure."""

from rewards.answers.engine import clear_cache, timeout_count, verify, verify_batch, warm_up
from rewards.answers.extract import extract_answer, gold_answer
from rewards.answers.normalize import Answer, normalize

__all__ = [
    "Answer",
    "clear_cache",
    "extract_answer",
    "gold_answer",
    "normalize",
    "timeout_count",
    "verify",
    "verify_batch",
    "warm_up",
]
