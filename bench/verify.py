"""Benchmarks rewards.verify against math-verify (the anchor) in the same process: accuracy on the development
table and on the frozen held-out set, per-pair latency, GRPO-batch throughput, the worst adversarial call.
It must never change a label or a verdict; it only measures. Run: .venv/bin/python bench/verify.py"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fixtures.verify_cases import HANG_PAIRS, cases  # noqa: E402
from fixtures.verify_heldout import heldout  # noqa: E402
from rewards.answers import engine, pool  # noqa: E402
from rewards.answers.normalize import _normalize  # noqa: E402

Check = Callable[[str, str], bool]


def math_verify_check(pred: str, gold: str, wrap_gold: bool = False) -> bool:
    """math-verify used its default way, as TRL's accuracy reward does: parse(gold), parse(pred), verify(gold, pred)."""
    from math_verify import parse, verify

    try:
        target = parse(f"${gold}$" if wrap_gold and "$" not in gold else gold)
        return bool(verify(target, parse(pred)))
    except BaseException:  # its TimeoutException is a BaseException
        return False


def ours_check(timeout: float) -> Check:
    return lambda pred, gold: engine.verify(pred, gold, timeout=timeout)


def _cold() -> None:
    engine.clear_cache()
    _normalize.cache_clear()


def graded(rows: list[dict], check: Check) -> tuple[list[bool], list[float]]:
    """Verdicts and per-pair wall times (cold caches) of ``check`` on ``rows``."""
    verdicts, seconds = [], []
    for row in rows:
        _cold()
        start = time.perf_counter()
        verdicts.append(bool(check(row["completion"], row["gold"])))
        seconds.append(time.perf_counter() - start)
    return verdicts, seconds


def scores(rows: list[dict], verdicts: list[bool]) -> tuple[float, int, int, int]:
    """(accuracy, false equal, false not-equal, not-equal rows)."""
    fp = sum(v and not r["label"] for r, v in zip(rows, verdicts, strict=True))
    fn = sum(r["label"] and not v for r, v in zip(rows, verdicts, strict=True))
    negatives = sum(not r["label"] for r in rows)
    return 1 - (fp + fn) / max(1, len(rows)), fp, fn, negatives


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def varied_batch(rows: list[dict], seed: int, prompts: int = 64, group: int = 8) -> list[tuple[str, str]]:
    """A 64x8 GRPO batch of distinct real (completion, gold) rows, drawn without replacement: no answer is
    repeated on purpose, so neither the dedupe nor the verdict cache gets work for free."""
    pool = [r for r in rows if r["category"] != "timeouts"]
    picked = random.Random(seed).sample(pool, min(len(pool), prompts * group))
    return [(r["completion"], r["gold"]) for r in picked]


def throughput(check_batch, batches, before=lambda: None) -> float:
    """Median completions per second over ``batches``: each timed cold (verdict and normalization caches
    cleared) after ``before()``."""
    rates = []
    for pairs in batches:
        before()
        _cold()
        start = time.perf_counter()
        check_batch(pairs)
        rates.append(len(pairs) / (time.perf_counter() - start))
    return statistics.median(rates)


def fresh_workers(warm_rows: list[dict], timeout: float) -> None:
    """New worker processes that have graded ``warm_rows`` (other data) and nothing else: what a training run's
    workers look like, without having seen the batch about to be timed."""
    pool.restart()
    engine.warm_up(wait=True)
    engine.verify_batch([(row["completion"], row["gold"]) for row in warm_rows], timeout=timeout)


def worst_adversarial(timeout: float, in_thread: bool) -> tuple[float, bool]:
    """Worst wall time of one ``verify`` call on the hang-inducing pairs, and whether every call returned a bool."""
    worst, all_bool = 0.0, True
    for pred, gold in HANG_PAIRS:
        _cold()
        box = []

        def call(pred=pred, gold=gold, box=box):
            start = time.perf_counter()
            box.append((engine.verify(pred, gold, timeout=timeout), time.perf_counter() - start))

        if in_thread:
            thread = threading.Thread(target=call)
            thread.start()
            thread.join()
        else:
            call()
        verdict, seconds = box[0]
        worst, all_bool = max(worst, seconds), all_bool and isinstance(verdict, bool)
    return worst, all_bool


def report_table(name: str, rows: list[dict], timeout: float) -> tuple[list[float], list[float]]:
    """Print accuracy and false equal/not-equal of ours beside math-verify's on ``rows``; return latencies."""
    ours, our_seconds = graded(rows, ours_check(timeout))
    anchor, anchor_seconds = graded(rows, math_verify_check)
    wrapped, _ = graded(rows, lambda p, g: math_verify_check(p, g, wrap_gold=True))
    (a, fp, fn, neg), (ma, mfp, mfn, _), (wa, wfp, _, _) = (scores(rows, v) for v in (ours, anchor, wrapped))
    print(f"{name}: {len(rows)} rows ({neg} not equal)")
    print(f"  accuracy: ours {a:.1%}  math-verify {ma:.1%}  math-verify($-wrapped gold) {wa:.1%}")
    print(f"  false equal: ours {fp} ({fp / max(1, neg):.1%} of not-equal)  math-verify {mfp} ({mfp / max(1, neg):.1%})"
          f"  math-verify($) {wfp}")
    print(f"  false not-equal: ours {fn}  math-verify {mfn}")
    for kind in sorted({r.get("kind") for r in rows} - {None}):
        index = [i for i, r in enumerate(rows) if r.get("kind") == kind]
        part = [rows[i] for i in index]
        ka = scores(part, [ours[i] for i in index])
        kb = scores(part, [anchor[i] for i in index])
        print(f"  {kind} ({len(part)} rows): accuracy ours {ka[0]:.1%}  math-verify {kb[0]:.1%}; "
              f"false equal ours {ka[1]}  math-verify {kb[1]}")
    return our_seconds, anchor_seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=3, help="GRPO batches timed (each 64x8)")
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    engine.warm_up(wait=True)  # both checkers are timed warm: math-verify's imports are loaded below too
    math_verify_check("1", "1")

    dev, held = cases(), heldout()
    report_table("development table (rules were written against it)", dev, args.timeout)
    our_seconds, anchor_seconds = report_table("frozen held-out set (never tuned to)", held, args.timeout)
    print(f"latency per pair on the held-out set (cold cache): ours p50 {percentile(our_seconds, 0.5) * 1e3:.1f} ms "
          f"p99 {percentile(our_seconds, 0.99) * 1e3:.1f} ms max {max(our_seconds):.3f} s  |  math-verify p50 "
          f"{percentile(anchor_seconds, 0.5) * 1e3:.1f} ms p99 {percentile(anchor_seconds, 0.99) * 1e3:.1f} ms "
          f"max {max(anchor_seconds):.3f} s")
    print(f"pairs over 1 s: ours {sum(s > 1 for s in our_seconds)}  math-verify {sum(s > 1 for s in anchor_seconds)}")

    batches = [varied_batch(held, seed) for seed in range(1, args.batches + 1)]
    our_rate = throughput(lambda pairs: engine.verify_batch(pairs, timeout=args.timeout), batches,
                          before=lambda: fresh_workers(dev, args.timeout))
    anchor_rate = throughput(lambda pairs: [math_verify_check(p, g) for p, g in pairs], batches)
    print(f"GRPO batch 64x8 of distinct held-out rows (fresh workers that graded only the development table): "
          f"ours {our_rate:.0f}/s  math-verify loop {anchor_rate:.0f}/s  ratio {our_rate / anchor_rate:.1f}x  "
          f"(median of {args.batches} batches)")

    for label, in_thread in (("main thread", False), ("worker thread", True)):
        worst, all_bool = worst_adversarial(args.timeout, in_thread)
        print(f"worst single adversarial call ({label}): ours {worst:.2f} s (bound {args.timeout + 0.5:.1f} s), "
              f"every call returned a bool: {all_bool}")
    print(f"timeouts counted: {engine.timeout_count()}")


if __name__ == "__main__":
    main()
