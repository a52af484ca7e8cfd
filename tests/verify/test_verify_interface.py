"""The interface others call: signatures, batch dedupe and cache, the timeout counter, no torch import."""

import subprocess
import sys

from rewards.answers import engine as equivalence
from rewards.answers import extract_answer, verify
from rewards.answers.engine import timeout_count, verify_batch


def test_public_names():
    assert verify("<answer>0.5</answer>", r"\frac12") is True
    assert verify("<answer>0.5</answer>", r"\frac13", timeout=5.0) is False
    assert extract_answer(r"\boxed{7}") == "7"
    assert isinstance(timeout_count(), int)


def test_batch_matches_single_calls_and_dedupes():
    pairs = [("<answer>4</answer>", "4"), ("5", "4"), ("<answer>4</answer>", "4"), (r"\boxed{\sin 2x}", r"2\sin x\cos x")]
    assert verify_batch(pairs) == [verify(p, g) for p, g in pairs] == [True, False, True, True]
    assert verify_batch([]) == []


def test_cache_is_bounded():
    equivalence.clear_cache()
    verify_batch([(str(i), str(i)) for i in range(100)])
    assert 0 < len(equivalence._cache) <= equivalence.CONFIG.cache_size


def test_rewards_never_imports_torch():
    code = "import sys, rewards; rewards.verify('1', '1'); assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
