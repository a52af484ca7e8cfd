"""Checks for any reward function, ours or a user's: the contract (``check_reward``), reward hacking
(``probe_hacking``) and the adversarial inputs behind both. They must never hide a failure."""

from rewards.testing.contract import CheckReport, RewardContractError, SlowRewardWarning, check_reward
from rewards.testing.hacking import (
    HackingFinding,
    HackingVariant,
    assert_no_hacking,
    hacking_variants,
    probe_hacking,
)
from rewards.testing.strategies import ADVERSARIAL, GOLDS, LATEX_BOMBS, batches, completions, golds, texts

for _public in (CheckReport, RewardContractError, SlowRewardWarning, HackingFinding, HackingVariant):
    _public.__module__ = __name__  # shown, and pickled, at the path users import them from

__all__ = [
    "ADVERSARIAL",
    "GOLDS",
    "LATEX_BOMBS",
    "CheckReport",
    "HackingFinding",
    "HackingVariant",
    "RewardContractError",
    "SlowRewardWarning",
    "assert_no_hacking",
    "batches",
    "check_reward",
    "completions",
    "golds",
    "hacking_variants",
    "probe_hacking",
    "texts",
]
