"""Never hang, never raise: adversarial inputs from the main thread, threads, asyncio and process pools.
Bounds here are generous hang guards (timeout + 5 s), not speed tests; verdicts on HANG_PAIRS are not asserted
(some are true identities), only that a bool comes back in time."""

import asyncio
import concurrent.futures
import multiprocessing
import os
import subprocess
import sys
import threading
import time

import pytest

from fixtures.verify_cases import HANG_PAIRS
from rewards.answers import engine as equivalence
from rewards.answers.engine import grade, verify, verify_batch
from rewards.answers.outcome import Status

TIMEOUT = 1.0
BOUND = TIMEOUT + 5.0
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _timed(pred, gold):
    start = time.monotonic()
    verdict = verify(pred, gold, timeout=TIMEOUT)
    return verdict, time.monotonic() - start


@pytest.mark.parametrize("pred,gold", HANG_PAIRS)
def test_adversarial_from_main_thread(pred, gold):
    verdict, seconds = _timed(pred, gold)
    assert type(verdict) is bool and seconds < BOUND


def test_adversarial_from_worker_threads():
    with concurrent.futures.ThreadPoolExecutor(4) as executor:
        results = list(executor.map(lambda pair: _timed(*pair), HANG_PAIRS))
    assert all(type(verdict) is bool and seconds < BOUND * 2 for verdict, seconds in results)


def test_adversarial_from_asyncio():
    async def main():
        loop = asyncio.get_running_loop()
        direct = verify(*HANG_PAIRS[3], timeout=TIMEOUT)
        offloaded = await asyncio.gather(*(loop.run_in_executor(None, verify, p, g, TIMEOUT) for p, g in HANG_PAIRS[:4]))
        return [direct, *offloaded]

    start = time.monotonic()
    verdicts = asyncio.run(main())
    assert len(verdicts) == 5 and all(type(verdict) is bool for verdict in verdicts)
    assert time.monotonic() - start < BOUND * 3


def _in_child(pair):
    verdict, seconds = _timed(*pair)
    return verdict, seconds, verify(r"\boxed{\sin 2x}", r"2\sin x\cos x", timeout=10.0)


@pytest.mark.parametrize("method", ["spawn", "fork", "forkserver"])
def test_adversarial_inside_a_process_pool(method):
    equivalence.verify(r"\boxed{\tan x}", r"\cot x")  # the parent has a live worker pool when the children fork
    context = multiprocessing.get_context(method)
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as executor:
        results = list(executor.map(_in_child, HANG_PAIRS[3:5], timeout=120))
    assert all(type(verdict) is bool and seconds < BOUND + 10 and sane is True for verdict, seconds, sane in results)


def test_inside_daemonic_multiprocessing_pool_workers():
    with multiprocessing.get_context("fork").Pool(2) as workers:
        results = workers.map(_in_child, HANG_PAIRS[3:5])
    assert all(type(verdict) is bool and sane is True for verdict, _, sane in results)


def test_batch_with_adversarial_rows_keeps_the_others():
    pairs = [HANG_PAIRS[3], (r"\boxed{\sin 2x}", r"2\sin x\cos x"), ("<answer>5</answer>", "5"), HANG_PAIRS[4],
             ("<answer>6</answer>", "5")]
    start = time.monotonic()
    verdicts = verify_batch(pairs, timeout=TIMEOUT)
    assert verdicts[1:3] == [True, True] and verdicts[4] is False and all(type(v) is bool for v in verdicts)
    assert time.monotonic() - start < BOUND * 2


@pytest.mark.parametrize("pred,gold", [
    (None, "1"), ("1", None), (b"1", "1"), (1, 1), ("", ""), ("\x00\\boxed{\x00}", "\x00"), ("\\" * 10_000, "1"),
    ("{" * 50_000, "}" * 50_000), ("\\boxed{" + "\\frac{1}{" * 2000 + "}" * 2000 + "}", "0"),
    ("<answer>" * 1000, "</answer>" * 1000), (r"\boxed{\begin{pmatrix}1&2\end{pmatrix}}", r"\{1,2\}"),
])
def test_never_raises_nor_errs_on_bad_input(pred, gold):
    outcome = grade(pred, gold, timeout=TIMEOUT)
    assert outcome.status is not Status.ERROR, outcome  # handled by design, not by a swallowed exception
    assert type(verify(pred, gold, timeout=TIMEOUT)) is bool


def test_verify_batch_never_raises_on_bad_pairs():
    assert verify_batch([("1", "1"), None, ("1",), (1, 2)], timeout=TIMEOUT) == [True, False, False, False]
    assert verify_batch(None) == [] and verify_batch(iter([])) == []


def test_many_threads_share_the_pool():
    results = []

    def work(i):
        results.append(verify(rf"\boxed{{\sin {i}x}}", rf"\sin({i}x)", timeout=5.0))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [True] * 12


def test_works_in_a_process_with_more_than_1024_open_files():
    code = (
        "import os, resource\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "want = 1500 if hard == resource.RLIM_INFINITY else min(hard, 1500)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))\n"
        "if max(soft, want) < 1300:\n"
        "    raise SystemExit(0)\n"
        "files = [os.open(os.devnull, os.O_RDONLY) for _ in range(1200)]\n"
        "from rewards.answers.engine import verify\n"
        "assert verify(r'\\boxed{\\sin 2x}', r'2\\sin x\\cos x') is True\n"
        "assert verify(r'\\boxed{e^{e^{e^{e^{e}}}}}', '1', timeout=1.0) is False\n"
    )
    run_in_fresh_interpreter(code)


@pytest.mark.parametrize("text", [
    "\\boxed{" * 28_000, "\\boxed{1}" * 20_000, "\\(" * 100_000, "\\boxed " * 25_000, "$" * 200_000,
    ("\\boxed{$\\(" + "{" * 10) * 10_000, "the answer is " * 14_000, "<answer>" * 25_000, "1 " * 100_000,
    "(\\sqrt{2}+\\sqrt{3}+\\sqrt{5}+\\sqrt{7}+\\sqrt{11}+\\sqrt{13}+\\sqrt{17}+\\sqrt{19})^{64}",
])
def test_pathological_text_is_read_in_bounded_time(text):
    start = time.monotonic()
    outcome = grade(text, "1", timeout=TIMEOUT)
    assert time.monotonic() - start < BOUND
    assert outcome.status is not Status.ERROR, outcome


def test_falls_back_to_bounded_threads_when_workers_cannot_start():
    code = (
        "import logging, sys\n"
        "records = []\n"
        "handler = logging.Handler(); handler.emit = records.append\n"
        "logging.getLogger('rewards').addHandler(handler)\n"
        "sys.executable = '/bin/false'\n"
        "from rewards import grade, stats, verify\n"
        "outcomes = [grade(r'\\boxed{\\sin 2x}', r'2\\sin x\\cos x', timeout=5.0) for _ in range(5)]\n"
        "assert all(o.equal for o in outcomes), outcomes\n"
        "assert outcomes[0].path == 'thread', outcomes[0]\n"
        "assert verify(r'\\boxed{\\sin 3x}', r'\\cos x', timeout=5.0) is False\n"
        "counted = stats()\n"
        "assert counted['pool_disabled'] == 1 and counted['worker_failed_starts'] >= 3, counted\n"
        "assert counted['thread_fallbacks'] == 2, counted\n"
        "assert any('disabled' in r.getMessage() and r.levelname == 'WARNING' for r in records), records\n"
    )
    run_in_fresh_interpreter(code)


def run_in_fresh_interpreter(code: str, env: dict | None = None) -> None:
    """Run ``code`` in a new Python process with the repository on its path; it fails the test by raising."""
    done = subprocess.run([sys.executable, "-c", code], timeout=180, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": ROOT, **(env or {})})
    assert done.returncode == 0, done.stderr[-3000:]
