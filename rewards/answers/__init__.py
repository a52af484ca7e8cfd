"""The answer engine behind ``rewards.verify``: parse (extract, normalize) then compare (exact numbers,
algebra, SymPy in worker processes). It must never raise to a caller, nor answer "equal" when unsure."""

from rewards.answers.config import VerifyConfig
from rewards.answers.counters import stats, timeout_count
from rewards.answers.engine import clear_cache, grade, grade_batch, verify, verify_batch, warm_up
from rewards.answers.extract import extract_answer, gold_answer
from rewards.answers.normalize import Answer
from rewards.answers.outcome import Outcome, Status

__all__ = [
    "Answer",
    "Outcome",
    "Status",
    "VerifyConfig",
    "clear_cache",
    "extract_answer",
    "gold_answer",
    "grade",
    "grade_batch",
    "stats",
    "timeout_count",
    "verify",
    "verify_batch",
    "warm_up",
]
