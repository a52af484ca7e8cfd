"""Benchmarks the reward server (``rewards serve``) against calling the same rewards in-process (the anchor) in one run:
throughput and p99 latency for OpenRLHF's per-sample requests and for batched requests, one line per figure.
It must never send traffic beyond loopback; it only measures. Run: .venv/bin/python bench/serve.py [--samples 1024]"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rewards.adapters.openrlhf import score_queries  # noqa: E402
from rewards.adapters.reward_set import RewardSet  # noqa: E402

SPEC = "accuracy,format:0.5"
PROMPT = "<|im_start|>user\nWhat is {a} + {b}?<|im_end|>\n<|im_start|>assistant\n"


def workload(n: int, seed: int) -> list[tuple[str, str, str]]:
    """``n`` distinct (query, prompt, label) triples as OpenRLHF sends them: a chat prompt, a response that is
    right or off by one, formatted or boxed, ending with the end-of-turn token. Distinct pairs keep the
    verdict cache from answering."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        a, b = rng.randrange(10**6), rng.randrange(10**6)
        answer = a + b + rng.choice((0, 0, 1))
        body = rng.choice((f"<think>{a}+{b}</think><answer>{answer}</answer>", f"So it is \\boxed{{{answer}}}."))
        prompt = PROMPT.format(a=a, b=b)
        rows.append((prompt + body + "<|im_end|>", prompt, str(a + b)))
    return rows


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def in_process(rows, batch: int, reward_set: RewardSet) -> tuple[float, float]:
    """(samples per second, p99 seconds per call) calling ``score_queries`` in this process, one batch at a time."""
    latencies = []
    start = time.perf_counter()
    for i in range(0, len(rows), batch):
        chunk = rows[i:i + batch]
        began = time.perf_counter()
        score_queries([r[0] for r in chunk], [r[1] for r in chunk], [r[2] for r in chunk], reward_set)
        latencies.append(time.perf_counter() - began)
    return len(rows) / (time.perf_counter() - start), percentile(latencies, 0.99)


def over_http(rows, batch: int, clients: int, port: int) -> tuple[float, float, int]:
    """(samples per second, p99 seconds per request, non-200 answers) with ``clients`` threads, each on its own
    kept-alive connection, posting OpenRLHF's ``/get_reward`` body."""
    chunks = [rows[i:i + batch] for i in range(0, len(rows), batch)]
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    cursor = iter(range(len(chunks)))

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            chunk = chunks[index]
            body = json.dumps({"query": [r[0] for r in chunk], "prompts": [r[1] for r in chunk],
                               "labels": [r[2] for r in chunk]})
            began = time.perf_counter()
            conn.request("POST", "/get_reward", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            with lock:
                latencies.append(time.perf_counter() - began)
                failures[0] += response.status != 200
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(rows) / (time.perf_counter() - start), percentile(latencies, 0.99), failures[0]


def start_server(concurrency: int) -> tuple[subprocess.Popen, int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("GRPOKIT_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "rewards.cli", "serve", "--rewards", SPEC, "--port", str(port),
                             "--max-concurrency", str(concurrency), "--log-level", "warning"], env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1024, help="samples per configuration")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--concurrency", type=int, default=4, help="the server's --max-concurrency")
    args = parser.parse_args()

    reward_set = RewardSet(SPEC)
    score_queries(*zip(*workload(8, seed=0), strict=True), reward_set)  # start the verify workers
    proc, port = start_server(args.concurrency)
    try:
        over_http(workload(32, seed=1), 8, 2, port)  # warm the server likewise
        print(f"rewards {SPEC}, {args.samples} distinct samples per row; server: {args.clients} clients, "
              f"--max-concurrency {args.concurrency}; in-process: one call at a time")
        for batch in (1, 64):
            local_rate, local_p99 = in_process(workload(args.samples, seed=10 + batch), batch, reward_set)
            rate, p99, failed = over_http(workload(args.samples, seed=20 + batch), batch, args.clients, port)
            label = "per-sample requests (OpenRLHF >= 0.10)" if batch == 1 else f"batches of {batch}"
            print(f"throughput, {label}: server {rate:,.0f} samples/s vs in-process {local_rate:,.0f} samples/s "
                  f"({rate / local_rate:.2f}x)")
            print(f"p99 latency, {label}: server {p99 * 1e3:.1f} ms vs in-process {local_p99 * 1e3:.1f} ms"
                  + (f" ({failed} non-200 answers)" if failed else ""))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)


if __name__ == "__main__":
    main()
