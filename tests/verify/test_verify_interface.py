"""The interface others call: signatures, outcomes, batch dedupe and cache (which really evicts), the counters,
no torch import."""

import importlib
import pkgutil
import subprocess
import sys
import types

import pytest

import rewards
from rewards.answers import engine as equivalence
from rewards.answers import extract_answer, verify
from rewards.answers.config import VerifyConfig
from rewards.answers.engine import grade, timeout_count, verify_batch
from rewards.answers.outcome import Outcome, Status


def test_public_names():
    assert verify("<answer>0.5</answer>", r"\frac12") is True
    assert verify("<answer>0.5</answer>", r"\frac13", timeout=5.0) is False
    assert extract_answer(r"\boxed{7}") == "7"
    assert isinstance(timeout_count(), int)
    for name in ("grade", "grade_batch", "stats", "Outcome", "Status", "VerifyConfig", "verify", "verify_batch",
                 "timeout_count", "warm_up"):
        assert name in rewards.__all__ and hasattr(rewards, name)
    assert rewards.stats()["real_timeouts"] == rewards.timeout_count()


def test_batch_matches_single_calls_and_dedupes():
    pairs = [("<answer>4</answer>", "4"), ("5", "4"), ("<answer>4</answer>", "4"), (r"\boxed{\sin 2x}", r"2\sin x\cos x")]
    assert verify_batch(pairs) == [verify(p, g) for p, g in pairs] == [True, False, True, True]
    assert verify_batch([]) == [] and rewards.grade_batch([]) == []


def test_verify_is_grade_equal():
    pairs = [("<answer>4</answer>", "4"), ("no answer here", "4"), (r"\boxed{\sin 2x}", r"2\sin x\cos x"), (None, "1")]
    outcomes = rewards.grade_batch(pairs)
    assert all(isinstance(o, Outcome) for o in outcomes)
    assert [o.equal for o in outcomes] == verify_batch(pairs) == [verify(p, g) for p, g in pairs]


def test_outcomes_are_frozen():
    outcome = grade("<answer>4</answer>", "4")
    with pytest.raises(AttributeError):
        outcome.status = Status.NOT_EQUAL


def test_cache_evicts_least_recently_used_beyond_the_configured_size():
    small = VerifyConfig(cache_size=5)
    equivalence.clear_cache()
    pairs = [(f"<answer>{i}/7</answer>", f"{i}/7") for i in range(1, 21)]
    assert all(o.path != "cache" for o in rewards.grade_batch(pairs, config=small))
    assert len(equivalence._cache) == 5
    assert grade(*pairs[-1], config=small).path == "cache"  # kept: among the 5 most recent
    assert grade(*pairs[0], config=small).path != "cache"  # evicted long ago
    assert grade(*pairs[-2], config=small).path == "cache"
    assert len(equivalence._cache) == 5


def test_config_is_passed_per_call():
    assert grade("<answer>12345</answer>", "12345", config=VerifyConfig(max_answer_chars=3)).status is Status.NO_ANSWER
    assert grade("<answer>12345</answer>", "12345", config=VerifyConfig(max_answer_chars=5)).equal
    with pytest.raises(TypeError, match="VerifyConfig"):
        grade("1", "1", config={"timeout": 1.0})


def test_rewards_never_imports_torch():
    code = "import sys, rewards; rewards.verify('1', '1'); assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_no_module_is_shadowed_by_a_name_its_package_exports():
    """``import rewards.answers.normalize as m`` must give the module (not the function), as for the families."""
    for info in pkgutil.walk_packages(rewards.__path__, "rewards."):
        parent, _, leaf = info.name.rpartition(".")
        importlib.import_module(info.name)
        assert isinstance(getattr(importlib.import_module(parent), leaf), types.ModuleType), info.name
