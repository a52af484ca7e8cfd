"""Benchmarks rewards.verify against math-verify (the anchor) in the same process: accuracy, false "equal" and false
"not equal" on the development table and on both frozen held-out sets, per kind of row; then speed, measured only
on material built for it (per-pair latency on the development table, GRPO batches of development rows timed on
fresh workers warmed on generated shapes), never on a held-out set. It must never change a label or a verdict; it
only measures. Run: .venv/bin/python bench/verify.py"""

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
from fixtures.verify_heldout import NEWEST, SETS, heldout  # noqa: E402
from fixtures.verify_shapes import generated_pairs  # noqa: E402
from rewards.answers import engine, pool  # noqa: E402
from rewards.answers.normalize import _normalize, unwrap_math  # noqa: E402

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
    unwrap_math.cache_clear()


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
    """A 64x8 GRPO batch of distinct (completion, gold) rows, drawn without replacement (as many as there are):
    no answer is repeated on purpose, so neither the dedupe nor the verdict cache gets work for free."""
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


def fresh_workers(timeout: float) -> None:
    """New worker processes that have graded generated answer shapes (fixtures/verify_shapes.py) and nothing else:
    what a training run's workers look like, without having seen the batch about to be timed."""
    pool.restart()
    engine.warm_up(wait=True)
    engine.verify_batch(generated_pairs(256, seed=0), timeout=timeout)


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


def _figures(rows: list[dict], verdicts: list[bool]) -> str:
    accuracy, fp, fn, negatives = scores(rows, verdicts)
    positives = len(rows) - negatives
    return (f"accuracy {accuracy:.1%}, false equal {fp}/{negatives} ({fp / max(1, negatives):.1%}), "
            f"false not-equal {fn}/{positives} ({fn / max(1, positives):.1%})")


def report_table(name: str, rows: list[dict], timeout: float) -> list[float]:
    """Print accuracy, false "equal" and false "not equal" of ours beside math-verify's on ``rows``, overall and
    per kind of row; return our per-pair latencies."""
    ours, our_seconds = graded(rows, ours_check(timeout))
    anchor, _ = graded(rows, math_verify_check)
    wrapped, _ = graded(rows, lambda p, g: math_verify_check(p, g, wrap_gold=True))
    negatives = sum(not r["label"] for r in rows)
    print(f"{name}: {len(rows)} rows ({len(rows) - negatives} equal, {negatives} not equal)")
    for label, verdicts in (("ours", ours), ("math-verify", anchor), ("math-verify($-wrapped gold)", wrapped)):
        print(f"  {label}: {_figures(rows, verdicts)}")
    for kind in sorted({r.get("kind") for r in rows} - {None}):
        index = [i for i, r in enumerate(rows) if r.get("kind") == kind]
        part = [rows[i] for i in index]
        print(f"  {kind} ({len(part)} rows): ours {_figures(part, [ours[i] for i in index])}")
        print(f"  {' ' * len(kind)}  math-verify {_figures(part, [anchor[i] for i in index])}")
    return our_seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=3, help="GRPO batches timed (each 64x8)")
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    engine.warm_up(wait=True)  # both checkers are timed warm: math-verify's imports are loaded below too
    math_verify_check("1", "1")

    dev = cases()
    dev_seconds = report_table("development table (rules were written against it)", dev, args.timeout)
    for number in SETS:  # each set without the rows learned from (they are development rows now)
        what = ("never read: the unseen figure" if number == NEWEST else "frozen" if number == 1
                else "frozen before issue 15 changed a rule" if number == 2 else f"frozen before set {number - 1}'s rows were read")
        report_table(f"frozen held-out set {number} ({what}; rows learned from are in the development table)",
                     heldout(number), args.timeout)
    print(f"latency per pair on the development table (cold cache): p50 {percentile(dev_seconds, 0.5) * 1e3:.1f} ms "
          f"p99 {percentile(dev_seconds, 0.99) * 1e3:.1f} ms max {max(dev_seconds):.3f} s; "
          f"pairs over 1 s: {sum(s > 1 for s in dev_seconds)}")

    batches = [varied_batch(dev, seed) for seed in range(1, args.batches + 1)]
    our_rate = throughput(lambda pairs: engine.verify_batch(pairs, timeout=args.timeout), batches,
                          before=lambda: fresh_workers(args.timeout))
    anchor_rate = throughput(lambda pairs: [math_verify_check(p, g) for p, g in pairs], batches)
    print(f"GRPO batch of {len(batches[0])} distinct development rows (fresh workers that graded only generated "
          f"shapes): ours {our_rate:.0f}/s  math-verify loop {anchor_rate:.0f}/s  ratio {our_rate / anchor_rate:.1f}x  "
          f"(median of {args.batches} batches)")

    for label, in_thread in (("main thread", False), ("worker thread", True)):
        worst, all_bool = worst_adversarial(args.timeout, in_thread)
        print(f"worst single adversarial call ({label}): ours {worst:.2f} s (bound {args.timeout + 0.5:.1f} s), "
              f"every call returned a bool: {all_bool}")
    print(f"timeouts counted: {engine.timeout_count()}")


if __name__ == "__main__":
    main()
