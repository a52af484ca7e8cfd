"""The reward server, run for real: a subprocess on a free loopback port, driven over HTTP with the standard
library's client (OpenRLHF's request shape, the versioned API, concurrent clients, back-pressure, the deadline,
SIGTERM with a request in flight, and every kind of bad input)."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("granian")
pytest.importorskip("prometheus_client")

from trainer_clients import needs_trainer, python_of  # noqa: E402

from rewards.serve import Settings, authorized, is_loopback  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token-0123456789"
GOOD = "<think>2+2</think><answer>4</answer>"
PROMPT = "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"
SLOW_REWARDS = '''
import time

def sleepy(completions, sleep=None, **kwargs):
    time.sleep(float(sleep[0]) if sleep else 0.0)
    return [1.0 for _ in completions]
'''

# ---- helpers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``rewards serve`` in a subprocess (``python -m rewards.cli serve``) on a free loopback port."""

    def __init__(self, tmp_path: Path, *args: str, token: str | None = None):
        self.port = free_port()
        self.token = token
        (tmp_path / "slow_rewards.py").write_text(SLOW_REWARDS)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
        env.pop("GRPOKIT_TOKEN", None)
        if token:
            env["GRPOKIT_TOKEN"] = token
        self.log = open(tmp_path / f"server-{self.port}.log", "w+")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "rewards.cli", "serve", "--port", str(self.port), *args],
                                     cwd=tmp_path, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"server exited with {self.proc.returncode}: {self.output()}"
            try:
                if self.request("GET", "/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"server did not start: {self.output()}")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def request(self, method: str, path: str, body=None, *, raw: bytes | None = None, headers=None,
                auth: bool = True, timeout: float = 60):
        """``(status, headers, parsed JSON or text)``."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            sent = dict(headers or {})
            if auth and self.token:
                sent.setdefault("Authorization", f"Bearer {self.token}")
            data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
            if data is not None:
                sent.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=data, headers=sent)
            response = conn.getresponse()
            text = response.read().decode()
            try:
                payload = json.loads(text)
            except json.JSONDecodeError:
                payload = text
            return response.status, dict(response.getheaders()), payload
        finally:
            conn.close()

    def metric(self, name: str) -> float:
        text = self.request("GET", "/metrics")[2]
        lines = [line for line in text.splitlines() if line.startswith(name + " ") or line.startswith(name + "{")]
        return sum(float(line.rsplit(" ", 1)[1]) for line in lines)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("serve"), "--rewards", "accuracy,format:0.5",
                     "--max-body-bytes", "65536", "--max-batch", "64", token=TOKEN)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("slow"), "--rewards", "slow_rewards:sleepy", "--max-concurrency", "1",
                     "--max-queue", "1", "--deadline", "4")
    yield running
    running.stop()


def in_threads(calls):
    """Run each zero-argument call in its own thread, all at once; their results in order."""
    results = [None] * len(calls)

    def run(i, call):
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


# ---- the API ----------------------------------------------------------------------------------


def test_openrlhf_request_shape(server):
    body = {"query": [PROMPT + GOOD + "<|im_end|>", PROMPT + "<answer>5</answer><|im_end|>", PROMPT + GOOD],
            "prompts": [PROMPT] * 3, "labels": ["4", "4", ""]}
    status, _, out = server.request("POST", "/get_reward", body)
    assert status == 200, out
    assert out == {"rewards": [1.5, 0.0, 0.5], "scores": [1.0, 0.0, 0.0],
                   "extra_logs": {"accuracy": [1.0, 0.0, 0.0], "format": [1.0, 0.0, 1.0], "unscored": [0.0, 0.0, 0.0]},
                   "unscored": [None, None, None]}


def test_openrlhf_oldest_shape_query_only(server):
    status, _, out = server.request("POST", "/get_reward", {"query": [PROMPT + GOOD]})
    assert status == 422 and "no gold column 'solution'" in out["error"] and "--label_key" in out["error"]


def test_get_reward_never_scores_the_prompt(server):
    """The prompt is not in the query (it decoded differently) and no assistant turn marks the response: a worked
    example in the prompt holds the gold, and the response is wrong. Unscored, marked and counted: never paid."""
    worked = "Example: 2+2? Answer: \\boxed{4}\nNow: 3+1? Answer:"
    before = server.metric('grpokit_unscored_samples_total{endpoint="/get_reward",reason="response_not_found"}')
    status, _, out = server.request("POST", "/get_reward", {"query": [worked + " I think it is 6", PROMPT + GOOD],
                                                            "prompts": [worked + "\n", PROMPT], "labels": ["4", "4"]})
    assert status == 200, out
    assert out["rewards"] == [0.0, 1.5] and out["scores"] == [0.0, 1.0]
    assert out["extra_logs"]["unscored"] == [1.0, 0.0] and out["extra_logs"]["accuracy"] == [0.0, 1.0]
    assert out["unscored"][0].startswith("response not found") and out["unscored"][1] is None
    after = server.metric('grpokit_unscored_samples_total{endpoint="/get_reward",reason="response_not_found"}')
    assert after == before + 1


def test_v1_score_values_per_reward_and_errors(server):
    body = {"completions": [GOOD, [{"role": "user", "content": "q"}, {"role": "assistant", "content": GOOD}],
                            "<answer>5</answer>", "<answer>4</answer>"],
            "solution": ["4", "4", "4", ""], "prompts": ["p", "p", "p", "q"]}
    status, _, out = server.request("POST", "/v1/score", body)
    assert status == 200, out
    assert out["results"] == [
        {"value": 1.5, "rewards": {"accuracy": 1.0, "format": 1.0}, "error": None},
        {"value": 1.5, "rewards": {"accuracy": 1.0, "format": 1.0}, "error": None},
        {"value": 0.0, "rewards": {"accuracy": 0.0, "format": 0.0}, "error": None},
        {"value": 0.0, "rewards": {"accuracy": None, "format": 0.0}, "error": None},
    ]


def test_v1_score_missing_gold_column_is_an_error_per_sample_not_a_silent_null(server):
    status, _, out = server.request("POST", "/v1/score", {"completions": [GOOD, GOOD], "answer": ["4", "4"]})
    assert status == 200
    for result in out["results"]:
        assert result["value"] is None and result["rewards"] == {"accuracy": None, "format": 1.0}
        assert "no gold column 'solution'" in result["error"] and "gold_key='answer'" in result["error"]


def test_health_and_metrics(server):
    status, _, out = server.request("GET", "/health", auth=False)
    assert status == 200 and out == {"status": "ok"}  # open, and liveness only
    before = server.metric("grpokit_samples_scored_total")
    server.request("POST", "/v1/score", {"completions": [GOOD, GOOD], "solution": ["4", "4"]})
    status, headers, text = server.request("GET", "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    for name in ("grpokit_requests_total", "grpokit_request_seconds_bucket", "grpokit_deadline_timeouts_total",
                 "grpokit_in_flight", "grpokit_verify_timeouts_total", "grpokit_samples_scored_total",
                 'grpokit_reward_weight{reward="format"} 0.5'):
        assert name in text
    assert server.metric("grpokit_samples_scored_total") == before + 2
    assert 'grpokit_requests_total{endpoint="/v1/score",status="200"}' in text


def test_concurrent_clients_each_get_their_own_answers(server):
    def call(i):
        gold = str(i)
        query = PROMPT + f"<think>t</think><answer>{i if i % 2 else i + 1}</answer><|im_end|>"
        return i, server.request("POST", "/get_reward", {"query": [query], "prompts": [PROMPT], "labels": [gold]})

    results = in_threads([lambda i=i: call(i) for i in range(12)])
    for i, (status, _, out) in results:
        assert status == 200, out
        assert out["rewards"] == [1.5 if i % 2 else 0.5] and out["scores"] == [1.0 if i % 2 else 0.0]


# ---- security ---------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                                     {"Authorization": f"Basic {TOKEN}"}, {"Authorization": f"Bearer {TOKEN}x"}])
@pytest.mark.parametrize("method,path", [("POST", "/get_reward"), ("POST", "/v1/score"), ("GET", "/metrics")])
def test_requests_without_the_token_get_401(server, headers, method, path):
    status, response_headers, out = server.request(method, path, {"query": [GOOD]}, headers=headers, auth=False)
    assert status == 401 and "bearer token" in out["error"] and response_headers.get("www-authenticate") == "Bearer"


@pytest.mark.parametrize("headers,status", [
    ({"Host": "attacker.example:8000"}, 403), ({"Host": "127.0.0.1.attacker.example"}, 403),
    ({"Origin": "http://attacker.example"}, 403), ({"Host": "localhost:1"}, 200), ({"Host": "[::1]:80"}, 200),
    ({"Origin": "http://127.0.0.1:3000"}, 200),
])
def test_a_tokenless_loopback_server_answers_only_requests_addressed_to_loopback(slow_server, headers, status):
    """DNS rebinding: a page whose name now resolves to 127.0.0.1 sends its own name as Host (and Origin)."""
    for method, path, body in (("GET", "/health", None), ("POST", "/v1/score", {"completions": ["a"], "sleep": [0]})):
        got, _, out = slow_server.request(method, path, body, headers=headers)
        assert got == status, out
        if status == 403:
            assert "not loopback" in out["error"]


@pytest.mark.parametrize(
    "header,token,expected",
    [("Bearer abc", "abc", True), ("bearer abc", "abc", True), ("Bearer  abc ", "abc", True), ("Bearer abd", "abc", False),
     ("Bearer ab", "abc", False), ("abc", "abc", False), (None, "abc", False), ("", "abc", False),
     ("Bearer é", "abc", False), (None, None, True)],
)
def test_authorized(header, token, expected):
    assert authorized(header, token) is expected


@pytest.mark.parametrize("host,loopback", [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
                                           ("localhost", True), ("0.0.0.0", False), ("::", False), ("10.0.0.5", False),
                                           ("example.com", False), ("localhost.example.com", False)])
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    "settings,message",
    [
        (Settings(host="0.0.0.0"), "refusing to listen on '0.0.0.0' without a token"),
        (Settings(host="::"), "without a token"),
        (Settings(token="  "), "the token is empty"),
        (Settings(token="abc"), "the token has 3 characters; use at least 16"),
        (Settings(header_timeout=0), "header-timeout"),
        (Settings(max_connections=0), "max-connections"),
        (Settings(max_queue=-1), "max-queue"),
        (Settings(max_concurrency=0), "max-concurrency"),
        (Settings(deadline=0), "deadline"),
        (Settings(port=70000), "port"),
    ],
)
def test_bad_settings_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        settings.checked()


def test_a_non_loopback_host_with_a_token_is_allowed():
    assert Settings(host="0.0.0.0", token=TOKEN).checked().host == "0.0.0.0"


@pytest.mark.parametrize(
    "args,env,message",
    [
        (["--host", "0.0.0.0"], {}, "refusing to listen on '0.0.0.0' without a token"),
        (["--rewards", "acuracy"], {}, "did you mean 'accuracy'"),
        (["--params", "{oops"], {}, "--params: not valid JSON"),
        (["--host", "0.0.0.0"], {"GRPOKIT_TOKEN": ""}, "without a token"),
    ],
)
def test_cli_refuses_to_start_with_one_line(args, env, message):
    done = subprocess.run([sys.executable, "-m", "rewards.cli", "serve", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT), **env})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rewards serve: error: ") and message in lines[0], done.stderr


def test_cli_without_the_serve_extra_names_it():
    script = textwrap.dedent("""
        import sys
        sys.modules["starlette"] = None  # as if the serve extra were not installed
        from rewards.cli import main
        sys.exit(main(["serve"]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2
    assert done.stderr.strip() == ("rewards serve: error: rewards serve needs the 'serve' extra: "
                                   "pip install 'grpokit[serve]' (starlette is not installed)")


# ---- bad input: a 4xx with its reason, and the server stays up ----------------------------------


@pytest.mark.parametrize(
    "method,path,raw,status,reason",
    [
        ("POST", "/get_reward", b'{"query": ["a"', 400, "malformed JSON"),
        ("POST", "/get_reward", b"", 400, "malformed JSON"),
        ("POST", "/get_reward", b'{"query": ["\xff\xfe"]}', 400, "not valid UTF-8 (byte 0xff at offset 12)"),
        ("POST", "/get_reward", b'{"query": [NaN]}', 400, "NaN is not a JSON number"),
        ("POST", "/get_reward", b'["a"]', 400, "must be a JSON object, got an array"),
        ("POST", "/get_reward", b"[" * 10_000 + b"]" * 10_000, 400, "malformed JSON"),
        ("POST", "/get_reward", b'{"prompts": ["a"]}', 400, "missing field 'query'"),
        ("POST", "/get_reward", b'{"query": "a"}', 400, "field 'query' must be an array, got a string"),
        ("POST", "/get_reward", b'{"query": ["a", 3]}', 400, "query[1] must be a string, got a number"),
        ("POST", "/get_reward", b'{"query": ["a"], "prompts": ["a", "b"]}', 400, "field 'prompts' has 2 entries for 1"),
        ("POST", "/get_reward", b'{"query": ["a"], "prompts": [1]}', 400, "prompts[0] must be a string"),
        ("POST", "/get_reward", b'{"query": ["a", "b"], "labels": ["4"]}', 400, "field 'labels' has 1 entries for 2"),
        ("POST", "/get_reward", json.dumps({"query": ["a"] * 65}).encode(), 413, "65 samples is over the limit of 64"),
        ("POST", "/v1/score", b'{"solution": ["4"]}', 400, "missing field 'completions'"),
        ("POST", "/v1/score", b'{"completions": [4]}', 400, "completions[0] must be a string or an array of messages"),
        ("POST", "/v1/score", b'{"completions": [[{"role": 1, "content": "a"}]]}', 400, "completions[0][0] must be a message"),
        ("POST", "/v1/score", b'{"completions": [["a"]]}', 400, "completions[0][0] must be a message"),
        ("POST", "/v1/score", b'{"completions": [[{"role": "assistant", "content": 5}]]}', 400, "content must be"),
        ("POST", "/v1/score", b'{"completions": ["a", "b"], "solution": ["4"]}', 400, "field 'solution' has 1 entries for 2"),
        ("POST", "/v1/score", b'{"completions": ["a"], "solution": "4"}', 400, "field 'solution' must be an array"),
        # once 500s: a label object with a key that is the completions, a column named self, a lone surrogate
        # key, and a number too long for Python's int (whose message once named a Python function)
        ("POST", "/get_reward", b'{"query": ["a"], "labels": [{"completions": "x"}]}', 200, None),
        ("POST", "/get_reward", b'{"query": ["a"], "labels": [{"self": "x"}]}', 200, None),
        ("POST", "/get_reward", b'{"query": ["a"], "labels": [{"a b": "x"}]}', 400, "cannot name a column"),
        ("POST", "/get_reward", b'{"query": ["a"], "labels": [["4"]]}', 400, "got an array"),
        ("POST", "/v1/score", b'{"completions": ["a"], "self": ["x"]}', 400, "cannot name a column"),
        ("POST", "/v1/score", b'{"completions": ["a"], "\\ud800": ["x"]}', 400, "cannot name a column"),
        ("POST", "/v1/score", b'{"completions": ["\\ud800"], "solution": ["4"]}', 200, None),
        ("POST", "/get_reward", b'{"query": ["a"], "labels": [' + b"9" * 5000 + b"]}", 400, "has 5000 digits"),
        ("POST", "/get_reward", b'{"query": ["a"], "labels": [1e999]}', 400, "out of range"),
        ("POST", "/v1/score", b'{"completions": ["a"], "trainer_state": [1]}', 400, "set by trainers"),
        ("POST", "/v1/score", b'{"completions": ["a"], "completion_ids": [["x"]]}', 400, "integer token ids"),
        ("POST", "/v1/score", b'{"completions": ["a"], "completion_ids": [[true]]}', 400, "integer token ids"),
        ("POST", "/v1/score", b"x" * 70_000, 413, "over the limit of 65536 bytes"),
        ("GET", "/get_reward", None, 405, "Method Not Allowed"),
        ("POST", "/health", b"{}", 405, "Method Not Allowed"),
        ("GET", "/nope", None, 404, "Not Found"),
    ],
)
def test_bad_input_gets_a_4xx_with_its_reason_and_the_server_stays_up(server, method, path, raw, status, reason):
    label = path if path != "/nope" else "other"  # unknown paths are counted together
    before = server.metric(f'grpokit_requests_total{{endpoint="{label}",status="{status}"}}')
    got, headers, out = server.request(method, path, raw=raw)
    assert got == status, out
    assert headers["content-type"] == "application/json"
    if reason is not None:
        assert reason in out["error"]
        assert "sys." not in out["error"] and "Python" not in out["error"]
    assert server.metric(f'grpokit_requests_total{{endpoint="{label}",status="{status}"}}') == before + 1
    assert server.request("GET", "/health")[0] == 200


def test_a_huge_declared_body_is_refused_before_it_is_sent(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.putrequest("POST", "/get_reward")
    conn.putheader("Authorization", f"Bearer {TOKEN}")
    conn.putheader("Content-Length", str(10**12))
    conn.endheaders(b'{"query": [')
    response = conn.getresponse()
    assert response.status == 413 and "1000000000000 bytes is over the limit of 65536 bytes" in json.loads(response.read())["error"]
    conn.close()
    assert server.request("GET", "/health")[0] == 200


def test_a_streamed_body_over_the_limit_is_cut_off(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    chunks = (b'{"query": ["' + b"x" * 10_000 if i == 0 else b"x" * 10_000 for i in range(8))
    conn.request("POST", "/get_reward", body=chunks, headers={"Authorization": f"Bearer {TOKEN}"}, encode_chunked=True)
    response = conn.getresponse()
    assert response.status == 413 and "over the limit of 65536 bytes" in json.loads(response.read())["error"]
    conn.close()


def test_a_bad_content_length_is_a_400(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.putrequest("POST", "/get_reward", skip_accept_encoding=True)
    conn.putheader("Authorization", f"Bearer {TOKEN}")
    conn.putheader("Content-Length", "-5")
    conn.endheaders()
    assert conn.getresponse().status == 400
    conn.close()
    assert server.request("GET", "/health")[0] == 200


# ---- back-pressure, deadline, shutdown ----------------------------------------------------------


def sleepy_request(server, seconds):
    return server.request("POST", "/v1/score", {"completions": ["a"], "sleep": [seconds]})


def test_back_pressure_answers_429_instead_of_queueing_without_bound(slow_server):
    results = in_threads([lambda: sleepy_request(slow_server, 1.0) for _ in range(3)])
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200, 200, 429]  # one computing, one waiting, the third refused at once
    busy = next(r for r in results if r[0] == 429)
    assert busy[1]["retry-after"] == "1" and "busy" in busy[2]["error"]
    assert sleepy_request(slow_server, 0)[0] == 200


def test_deadline_gives_504_and_the_slot_stays_taken_until_the_work_ends(slow_server):
    before = slow_server.metric("grpokit_deadline_timeouts_total")
    started = time.monotonic()
    status, _, out = sleepy_request(slow_server, 10.0)
    assert status == 504 and "deadline of 4s exceeded" in out["error"]
    assert time.monotonic() - started < 10.0
    assert slow_server.metric("grpokit_deadline_timeouts_total") == before + 1
    # the timed-out computation still holds the only worker: one request may wait (and meets its own
    # deadline before the worker is free), a second one is refused at once
    statuses = sorted(s for s, _, _ in in_threads([lambda: sleepy_request(slow_server, 0) for _ in range(2)]))
    assert statuses == [429, 504]
    deadline = time.monotonic() + 60
    while slow_server.metric("grpokit_in_flight") > 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sleepy_request(slow_server, 0)[0] == 200


def test_sigterm_finishes_the_request_in_flight_then_exits(tmp_path):
    running = Server(tmp_path, "--rewards", "slow_rewards:sleepy")
    try:
        thread_result = {}
        worker = threading.Thread(target=lambda: thread_result.setdefault("r", sleepy_request(running, 2.0)))
        worker.start()
        deadline = time.monotonic() + 30
        while running.metric("grpokit_in_flight") < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        running.proc.send_signal(signal.SIGTERM)
        worker.join(60)
        status, _, out = thread_result["r"]
        assert status == 200 and out["results"][0]["value"] == 1.0
        assert running.proc.wait(timeout=60) == 0
        with pytest.raises(OSError):
            running.request("GET", "/health", timeout=5)
        assert "rewards serve: stopped" in running.output()
    finally:
        running.stop()


# ---- OpenRLHF's own HTTP client (in its environment, when there is one) ---------------------------

OPENRLHF_PYTHON = python_of("verl")


@needs_trainer(OPENRLHF_PYTHON, "openrlhf")
def test_openrlhf_single_turn_executor_posts_to_the_server(tmp_path):
    running = Server(tmp_path, "--rewards", "accuracy,format:0.5")  # OpenRLHF sends no token: loopback only
    try:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
               "HOME": os.environ.get("HOME", "/tmp")}
        done = subprocess.run([str(OPENRLHF_PYTHON), str(ROOT / "tests/rewards/trainer_clients.py"), "openrlhf",
                               f"http://127.0.0.1:{running.port}/get_reward"],
                              capture_output=True, text=True, timeout=900, env=env)
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        assert done.returncode == 0 and lines, done.stderr[-4000:]
        samples = json.loads(lines[-1][len("RESULT "):])["samples"]
        assert [s["reward"] for s in samples] == [[1.5], [0.0], [1.0], [0.5]]
        assert [s["score"] for s in samples] == [[1.0], [0.0], [1.0], [0.0]]
        assert samples[0]["extra"] == {"accuracy": [1.0], "format": [1.0], "unscored": [0.0]}
        assert running.metric("grpokit_requests_total") >= 4
    finally:
        running.stop()
