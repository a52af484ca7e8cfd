"""The reward server against slow and hostile clients and failing workers, for real: ``rewards serve`` in a
subprocess on 127.0.0.1, driven with raw sockets (half-sent headers, idle connections, trickled bodies, clients
that leave), a verify worker killed mid-request, and SIGTERM with a slow check in flight. Symbolic checks are
made slow (or fatal to their worker) inside the server by a test reward module that wraps the verify pool's
tasks, so the workers themselves are real. Time bounds are generous hang guards, not speed tests."""

import json
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("granian")
pytest.importorskip("prometheus_client")

from test_serve_rewards import Server  # noqa: E402

# Loaded by the server as a reward of weight 0 (it returns None): wraps each symbolic check the verify pool is
# given. A gold with \tan sleeps 3 s inside the worker first; a gold with \cos^2 ends its worker (os._exit).
# Only standard-library calls run in the worker, so it imports nothing of the tests.
FAULTS = r'''
import operator, os, time
from rewards.answers import pool as _pool

class _Call:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args
    def __reduce__(self):
        return self.fn, self.args

class _Then:
    def __init__(self, first, task):
        self.first, self.task = first, task
    def __reduce__(self):
        return operator.getitem, ((self.first, self.task), 1)

def _wrap(task):
    gold = getattr(task[1], "text", "")
    if "\\tan" in gold:
        return _Then(_Call(time.sleep, 3.0), task)
    if "\\cos^2" in gold:
        return _Then(_Call(os._exit, 3), task)
    return task

_extend = _pool.WorkerPool.extend
_pool.WorkerPool.extend = lambda self, batch, tasks: _extend(self, batch, [_wrap(t) for t in tasks])

def marker(completions, **kwargs):
    return [None] * len(completions)
'''
SLOW = [(f"$\\boxed{{\\frac{{\\sin {k}x}}{{\\cos {k}x}}}}$", f"\\tan {k}x") for k in range(2, 12)]  # 10 x 3 s
FATAL = ("$\\boxed{\\cos 2x}$", "\\cos^2 x-\\sin^2 x")
QUICK = ("$\\boxed{\\sin 2x}$", "2\\sin x\\cos x")


@pytest.fixture
def start(tmp_path, monkeypatch):
    """Start a server with the fault-injecting reward beside accuracy, one verify worker, and ``args``."""
    (tmp_path / "faults.py").write_text(FAULTS)
    monkeypatch.setenv("GRPOKIT_VERIFY_WORKERS", "1")
    servers = []

    def start_server(*args: str) -> Server:
        server = Server(tmp_path, "--rewards", "accuracy,faults:marker:0", *args)
        servers.append(server)
        return server

    yield start_server
    for server in servers:
        server.stop()


def warm(server: Server) -> None:
    """Wait until the verify worker answers (its start may take longer than a short --deadline)."""
    assert wait_for(lambda: score(server, [QUICK])[0] == 200, timeout=120, step=0.5), server.output()


def score(server: Server, pairs, timeout: float = 120):
    return server.request("POST", "/v1/score", {"completions": [p for p, _ in pairs],
                                                "solution": [g for _, g in pairs]}, timeout=timeout)


def wait_for(condition, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def worker_pids(server: Server) -> list[int]:
    """The server's verify worker processes (its children running rewards.answers.worker)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == server.proc.pid and b"rewards.answers.worker" in command:
            pids.append(int(entry.name))
    return pids


def open_files(server: Server) -> int:
    return len(os.listdir(f"/proc/{server.proc.pid}/fd"))


def read_reply(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends until it closes the connection (or ``timeout``)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionError):
        pass
    return data


def closed_within(sock: socket.socket, timeout: float) -> bool:
    """Does the server close ``sock`` within ``timeout`` seconds (whatever it sends first)?"""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionError:
        pass
    return True


def in_background(call):
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", call()))
    thread.start()
    return thread, box


# ---- connections that never finish their headers ------------------------------------------------


def test_half_sent_headers_and_idle_connections_are_closed_and_capped(start):
    server = start("--header-timeout", "2", "--max-connections", "8")
    baseline = open_files(server)
    half = []
    for i in range(30):  # more than the cap: the rest wait in the kernel's backlog, costing the server nothing
        sock = socket.create_connection(("127.0.0.1", server.port))
        if i % 2:
            sock.sendall(b"POST /v1/score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")  # never finished
        half.append(sock)
    time.sleep(0.5)
    assert open_files(server) <= baseline + 8 + 8  # the cap holds (a few files of the server's own aside)
    status, _, out = server.request("GET", "/health", timeout=60)  # served once the stalled ones are dropped
    assert status == 200 and out == {"status": "ok"}
    for sock in half:  # every stalled connection is closed by the server, headers or not
        assert closed_within(sock, timeout=60)
        sock.close()
    assert wait_for(lambda: open_files(server) <= baseline + 2, timeout=60)


def test_a_connection_idle_after_its_answer_is_closed(start):
    server = start("--header-timeout", "2")
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    reply = read_reply(sock, timeout=60)  # the answer, then the close once the connection idles
    assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b'{"status":"ok"}')
    sock.close()


# ---- bodies that trickle in -------------------------------------------------------------------


def test_trickled_bodies_get_408_at_the_deadline_and_free_their_slots(start):
    server = start("--max-concurrency", "1", "--max-queue", "1", "--deadline", "3", "--header-timeout", "30")
    warm(server)
    socks = []
    for _ in range(2):  # both slots: one byte a second of a 200-byte body
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"POST /v1/score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 200\r\n\r\n{")
        socks.append(sock)

    def trickle(sock):
        for _ in range(60):
            try:
                sock.sendall(b" ")
            except OSError:
                return
            time.sleep(1.0)

    threads = [threading.Thread(target=trickle, args=(sock,), daemon=True) for sock in socks]
    for thread in threads:
        thread.start()
    assert wait_for(lambda: server.metric("grpokit_in_flight") >= 2, timeout=30)
    for sock in socks:
        reply = read_reply(sock, timeout=60)
        assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
        assert b"did not arrive within the deadline of 3s" in reply
        sock.close()
    assert score(server, [QUICK])[0] == 200  # the slots are free again
    assert server.metric('grpokit_requests_total{endpoint="/v1/score",status="408"}') == 2


def rss_mb(server: Server) -> float:
    status = Path(f"/proc/{server.proc.pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


def test_queued_bodies_cost_their_bytes_not_their_parsed_objects(tmp_path):
    """Requests waiting for a thread hold their raw body only: 4 queued 4 MiB bodies of ``{}`` items (about
    100 MB each once parsed) add tens of MB, not hundreds."""
    server = Server(tmp_path, "--rewards", "slow_rewards:sleepy", "--max-concurrency", "1", "--max-queue", "8",
                    "--max-body-bytes", str(5 * 2**20), "--deadline", "120")
    try:
        busy, _ = in_background(lambda: server.request("POST", "/v1/score", {"completions": ["a"], "sleep": [20]}))
        assert wait_for(lambda: server.metric("grpokit_in_flight") >= 1, timeout=30)
        before = rss_mb(server)
        body = b'{"completions": ["a"], "items": [' + b"{}," * (4 * 2**20 // 3 - 20) + b"{}]}"
        queued = [in_background(lambda: server.request("POST", "/v1/score", raw=body, timeout=120)) for _ in range(4)]
        assert wait_for(lambda: server.metric("grpokit_in_flight") >= 5, timeout=60)
        time.sleep(1.0)
        grown = rss_mb(server) - before
        assert grown < 150, f"{grown:.0f} MB for 16 MiB of queued bodies"
        for thread, box in queued:
            thread.join(180)
            assert box["result"][0] == 400  # 'items' has 1398081 entries for 1 samples
        busy.join(60)
    finally:
        server.stop()


# ---- computing bounded by the deadline, and cancelled when the client leaves ---------------------


def test_slow_checks_are_cut_at_the_deadline_not_run_to_the_end(start):
    server = start("--deadline", "4", "--max-concurrency", "1")
    warm(server)
    status, _, out = score(server, SLOW)  # 10 checks of 3 s on one worker: 30 s if run to the end
    assert status == 504 and "deadline" in out["error"]  # never a 200 with the cut checks as zeros
    assert wait_for(lambda: server.metric("grpokit_in_flight") == 0, timeout=15)  # stopped soon after the deadline
    status, _, out = score(server, [QUICK])
    assert status == 200 and out["results"][0]["value"] == 1.0


def test_work_is_cancelled_when_the_client_leaves(start):
    server = start("--deadline", "120", "--max-concurrency", "1")
    warm(server)
    body = json.dumps({"completions": [p for p, _ in SLOW], "solution": [g for _, g in SLOW]}).encode()
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"POST /v1/score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    assert wait_for(lambda: server.metric("grpokit_in_flight") >= 1, timeout=30)
    time.sleep(1.0)
    sock.close()  # the client leaves with 30 s of checks ahead
    assert wait_for(lambda: server.metric("grpokit_in_flight") == 0, timeout=15)
    assert wait_for(lambda: server.metric('grpokit_requests_total{endpoint="/v1/score",status="499"}') == 1, 10)


# ---- a verify worker killed mid-request ------------------------------------------------------------


def test_a_worker_killed_mid_check_is_retried_and_the_right_answer_is_paid(start):
    server = start("--deadline", "120")
    warm(server)
    [first] = worker_pids(server)
    thread, box = in_background(lambda: score(server, SLOW[:1]))
    assert wait_for(lambda: server.metric("grpokit_in_flight") >= 1, timeout=30)
    time.sleep(1.0)  # inside the 3 s check
    os.kill(first, signal.SIGKILL)
    thread.join(120)
    status, _, out = box["result"]
    assert status == 200 and out["results"][0] == {"value": 1.0, "rewards": {"accuracy": 1.0, "faults:marker": None},
                                                   "error": None}


def test_a_check_that_kills_its_worker_twice_is_unscored_never_a_silent_zero(start):
    server = start("--deadline", "120")
    status, _, out = score(server, [FATAL, QUICK])
    assert status == 200
    fatal, quick = out["results"]
    assert fatal["value"] is None and "the grader failed on this sample" in fatal["error"]
    assert quick == {"value": 1.0, "rewards": {"accuracy": 1.0, "faults:marker": None}, "error": None}
    prompt = "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n"
    status, _, out = server.request("POST", "/get_reward", {"query": [prompt + FATAL[0].replace("2x", "4x")],
                                                            "prompts": [prompt], "labels": [FATAL[1]]})
    assert status == 200 and out["rewards"] == [0.0] and out["extra_logs"]["unscored"] == [1.0]
    assert "the grader failed" in out["unscored"][0]
    assert server.metric('grpokit_unscored_samples_total{endpoint="/v1/score",reason="reward_error"}') == 1
    assert server.metric('grpokit_unscored_samples_total{endpoint="/get_reward",reason="reward_error"}') == 1


# ---- shutdown ---------------------------------------------------------------------------------------


def test_sigterm_with_a_slow_check_in_flight_exits_within_deadline_and_grace(start):
    server = start("--deadline", "4", "--shutdown-grace", "2", "--max-concurrency", "1")
    warm(server)
    thread, box = in_background(lambda: score(server, SLOW))
    assert wait_for(lambda: server.metric("grpokit_in_flight") >= 1, timeout=30)
    signalled = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=60) == 0
    assert time.monotonic() - signalled < 4 + 2 + 20  # deadline + grace, and a loaded machine's slack
    thread.join(60)
    status, _, _ = box["result"]
    assert status == 504
    assert wait_for(lambda: not worker_pids(server), timeout=30)  # no verify worker outlives the server
