"""Never hang, never raise: adversarial inputs from the main thread, threads, asyncio and process pools.
Bounds here are generous hang guards (timeout + 5 s), not speed tests."""

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
from rewards.answers.engine import timeout_count, verify, verify_batch

TIMEOUT = 1.0
BOUND = TIMEOUT + 5.0


def _timed(pred, gold):
    start = time.monotonic()
    verdict = verify(pred, gold, timeout=TIMEOUT)
    return verdict, time.monotonic() - start


@pytest.mark.parametrize("pred,gold", HANG_PAIRS)
def test_adversarial_from_main_thread(pred, gold):
    verdict, seconds = _timed(pred, gold)
    assert verdict is False and seconds < BOUND


def test_adversarial_from_worker_threads():
    with concurrent.futures.ThreadPoolExecutor(4) as executor:
        results = list(executor.map(lambda pair: _timed(*pair), HANG_PAIRS))
    assert all(verdict is False and seconds < BOUND * 2 for verdict, seconds in results)


def test_adversarial_from_asyncio():
    async def main():
        loop = asyncio.get_running_loop()
        direct = verify(*HANG_PAIRS[3], timeout=TIMEOUT)
        offloaded = await asyncio.gather(*(loop.run_in_executor(None, verify, p, g, TIMEOUT) for p, g in HANG_PAIRS[:4]))
        return [direct, *offloaded]

    start = time.monotonic()
    assert asyncio.run(main()) == [False] * 5
    assert time.monotonic() - start < BOUND * 3


def _in_child(pair):
    verdict, seconds = _timed(*pair)
    return verdict, seconds, verify("<answer>4</answer>", "4", timeout=TIMEOUT)


@pytest.mark.parametrize("method", ["spawn", "fork", "forkserver"])
def test_adversarial_inside_a_process_pool(method):
    equivalence.verify(r"\boxed{\tan x}", r"\cot x")  # the parent has a live worker pool when the children fork
    context = multiprocessing.get_context(method)
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as executor:
        results = list(executor.map(_in_child, HANG_PAIRS[3:5], timeout=120))
    assert all(verdict is False and seconds < BOUND + 10 and sane for verdict, seconds, sane in results)


def test_inside_daemonic_multiprocessing_pool_workers():
    with multiprocessing.get_context("fork").Pool(2) as workers:
        results = workers.map(_in_child, HANG_PAIRS[3:5])
    assert all(verdict is False and sane for verdict, _, sane in results)


def test_timeouts_are_counted_and_worker_is_replaced():
    before = timeout_count()
    assert verify(*HANG_PAIRS[4], timeout=0.5) is False
    assert timeout_count() == before + 1
    assert verify(r"\boxed{\tan^2 x + 1}", r"\sec^2 x", timeout=5.0) is True


def test_batch_with_adversarial_rows_keeps_the_others():
    pairs = [HANG_PAIRS[3], (r"\boxed{\sin 2x}", r"2\sin x\cos x"), ("<answer>5</answer>", "5"), HANG_PAIRS[4]]
    start = time.monotonic()
    assert verify_batch(pairs, timeout=TIMEOUT) == [False, True, True, False]
    assert time.monotonic() - start < BOUND * 2


@pytest.mark.parametrize("pred,gold", [
    (None, "1"), ("1", None), (b"1", "1"), (1, 1), ("", ""), ("\x00\\boxed{\x00}", "\x00"), ("\\" * 10_000, "1"),
    ("{" * 50_000, "}" * 50_000), ("\\boxed{" + "\\frac{1}{" * 2000 + "}" * 2000 + "}", "0"),
    ("<answer>" * 1000, "</answer>" * 1000), (r"\boxed{\begin{pmatrix}1&2\end{pmatrix}}", r"\{1,2\}"),
])
def test_never_raises(pred, gold):
    assert verify(pred, gold, timeout=TIMEOUT) in (True, False)


def test_verify_batch_never_raises_on_bad_pairs():
    assert verify_batch([("1", "1"), None, ("1",), (1, 2)], timeout=TIMEOUT) == [True, False, False, False]


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
    _run_in_fresh_interpreter(code)


@pytest.mark.parametrize("text", [
    "\\boxed{" * 28_000, "\\boxed{1}" * 20_000, "\\(" * 100_000, "\\boxed " * 25_000, "$" * 200_000,
    ("\\boxed{$\\(" + "{" * 10) * 10_000, "the answer is " * 14_000, "<answer>" * 25_000, "1 " * 100_000,
    "(\\sqrt{2}+\\sqrt{3}+\\sqrt{5}+\\sqrt{7}+\\sqrt{11}+\\sqrt{13}+\\sqrt{17}+\\sqrt{19})^{64}",
])
def test_pathological_text_is_read_in_bounded_time(text):
    start = time.monotonic()
    assert verify(text, "1", timeout=TIMEOUT) in (True, False)
    assert time.monotonic() - start < BOUND


def test_falls_back_to_bounded_threads_when_workers_cannot_start():
    code = (
        "import sys\n"
        "sys.executable = '/bin/false'\n"
        "from rewards.answers.engine import verify\n"
        "verdicts = [verify(r'\\boxed{\\sin 2x}', r'2\\sin x\\cos x', timeout=5.0) for _ in range(5)]\n"
        "assert verdicts[-1] is True and all(v in (True, False) for v in verdicts), verdicts\n"
        "assert verify(r'\\boxed{e^{e^{e^{e^{e}}}}}', '1', timeout=1.0) is False\n"
    )
    _run_in_fresh_interpreter(code)


def _run_in_fresh_interpreter(code: str) -> None:
    """Run ``code`` in a new Python process with the repository on its path; it fails the test by raising."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, cwd=root,
                   env={**os.environ, "PYTHONPATH": root})
