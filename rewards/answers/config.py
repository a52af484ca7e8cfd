"""Holds the settings of one verify call (timeout, cache bound, answer size cap, extraction rules) as a frozen value.
It must never be mutated in place: callers pass their own ``VerifyConfig``; ``DEFAULT`` is only the default."""

from __future__ import annotations

from dataclasses import dataclass, field

from rewards.answers.extract import DEFAULT as DEFAULT_EXTRACTION
from rewards.answers.extract import ExtractionConfig


@dataclass(frozen=True)
class VerifyConfig:
    """``timeout``: seconds per check when a call passes none; ``cache_size``: verdicts kept (LRU, keyed by
    the normalized answer pair, shared by the process and trimmed to the calling config's bound);
    ``max_answer_chars``: longer extracted answers are not compared (no answer); ``extraction``: where
    ``extract_answer`` looks.

    >>> VerifyConfig(cache_size=10).timeout
    5.0
    """

    timeout: float = 5.0
    cache_size: int = 200_000
    max_answer_chars: int = 1000
    extraction: ExtractionConfig = field(default_factory=lambda: DEFAULT_EXTRACTION)


DEFAULT = VerifyConfig()
