"""The openai backend against a real HTTP server in a subprocess (unreliable_openai_server.py) that throttles, fails,
drops connections, ignores n and refuses seeds on purpose; the CLI runs as a real subprocess where exit codes and
output matter (retries running out, kill -9 and resume, the key never written or logged)."""

from __future__ import annotations

import base64
import io
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("httpx")
pytest.importorskip("starlette")
pytest.importorskip("granian")

from kill_helpers import ROOT, cli_env, sigkill_after_lines  # noqa: E402

from evalsuite import EvalConfig, run  # noqa: E402
from evalsuite.backends.openai import OpenAIBackend, retry_after_seconds  # noqa: E402
from evalsuite.errors import EvalError  # noqa: E402

SERVER = Path(__file__).with_name("unreliable_openai_server.py")
MODEL = "tiny-served"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """unreliable_openai_server.py in a subprocess on a free loopback port, configured by ``behaviour``."""

    def __init__(self, tmp_path: Path, behaviour: dict):
        self.port = _free_port()
        config = tmp_path / f"behaviour-{self.port}.json"
        config.write_text(json.dumps(behaviour))
        self.log_file = open(tmp_path / f"server-{self.port}.log", "w+")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, str(SERVER), "--port", str(self.port), "--config", str(config)],
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}/v1"
        deadline = time.monotonic() + 30
        while not self._answers():
            assert self.proc.poll() is None and time.monotonic() < deadline, self.output()
            time.sleep(0.05)

    def _answers(self) -> bool:
        import httpx

        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/_log", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def log(self) -> dict:
        import httpx

        return httpx.get(f"http://127.0.0.1:{self.port}/_log", timeout=10).json()

    def requests(self) -> list[dict]:
        return self.log()["requests"]

    def output(self) -> str:
        self.log_file.seek(0)
        return self.log_file.read()[-2000:]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log_file.close()


@pytest.fixture
def serve(tmp_path):
    """``serve(**behaviour) -> Server``; every server started is stopped at the end of the test."""
    started: list[Server] = []

    def start(**behaviour) -> Server:
        started.append(Server(tmp_path, behaviour))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def _config(server: Server, data: Path, out: Path, **settings) -> EvalConfig:
    return EvalConfig(model=MODEL, data=str(data), backend="openai", base_url=server.url, output_dir=str(out), **settings)


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _cli(args: list, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    env = {**cli_env(), **(env or {})}
    return subprocess.run([sys.executable, "-m", "evalsuite", "run", *map(str, args), "--no-progress"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300, **kwargs)


def _question(request: dict) -> str:
    return request["body"]["messages"][-1]["content"]


def test_results_come_in_prompt_order_with_requests_in_flight_together(serve, tmp_path, write_jsonl, sums):
    # the first 4 requests are answered only once 4 are in flight; the first prompt is answered last
    server = serve(hold=4, delays={"What is 0+1?": 0.3})
    data = write_jsonl(tmp_path / "d.jsonl", sums(8))
    summary = run(_config(server, data, tmp_path / "out", concurrency=4), progress=False)
    log = server.log()
    assert log["hold_released"] is True and log["max_in_flight"] == 4
    records = _lines(tmp_path / "out" / "samples.jsonl")
    assert [r["id"] for r in records] == list(range(8))
    assert [r["completions"] for r in records] == [[f"The sum is \\boxed{{{2 * i + 1}}}"] for i in range(8)]
    assert summary["metrics"]["accuracy"] == 1.0
    assert all(r["lengths"] == [4] and "completion_ids" not in r for r in records)  # usage.completion_tokens
    assert [r["body"].get("seed") for r in log["requests"]] == [None] * 8  # greedy: no seed, one request each


@pytest.mark.parametrize(
    "plan, failures",
    [
        (["429", "429"], 2),
        (["500", "503"], 2),
        (["drop"], 1),
        (["408", "502", "drop"], 3),
    ],
)
def test_throttling_server_errors_and_dropped_connections_are_retried(serve, tmp_path, write_jsonl, sums, caplog,
                                                                      plan, failures):
    server = serve(faults={"What is 1+2?": plan})
    data = write_jsonl(tmp_path / "d.jsonl", sums(3))
    with caplog.at_level("WARNING", logger="evalsuite.backends.openai"):
        summary = run(_config(server, data, tmp_path / "out", max_retries=3), progress=False)
    assert summary["metrics"]["accuracy"] == 1.0
    asked = [_question(r) for r in server.requests()]
    assert asked.count("What is 1+2?") == failures + 1 and asked.count("What is 0+1?") == 1
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == failures and all(m.startswith("prompt id 1 (row 2): ") for m in retries)
    assert f"{failures} retries" in caplog.records[-1].getMessage()  # the count at close


def test_retry_after_is_waited_for(serve, tmp_path, write_jsonl, sums):
    server = serve(faults={"What is 0+1?": ["429"]}, retry_after="1")
    data = write_jsonl(tmp_path / "d.jsonl", sums(1))
    run(_config(server, data, tmp_path / "out"), progress=False)
    throttled, retried = server.requests()
    assert throttled["outcome"] == "429" and retried["outcome"] == "ok"
    assert retried["time"] - throttled["time"] >= 1.0


@pytest.mark.parametrize(
    "header, seconds",
    [
        ("5", 5.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # already past
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_header_forms(header, seconds):
    assert retry_after_seconds(header, now=1445412480.0) == seconds  # 2015-10-21 07:28:00 UTC


def test_a_client_error_is_not_retried_and_names_the_prompt(serve, tmp_path, write_jsonl, sums):
    server = serve(faults={"What is 2+3?": ["400"]})
    data = write_jsonl(tmp_path / "d.jsonl", sums(4))
    with pytest.raises(EvalError) as caught:
        run(_config(server, data, tmp_path / "out", batch_size=2), progress=False)
    assert str(caught.value) == (
        f"prompt id 2 (row 3): the server at {server.url} refused the request (HTTP 400: HTTP 400 (on purpose)); "
        "finished batches are saved: rerun to resume")
    assert [_question(r) for r in server.requests()].count("What is 2+3?") == 1
    assert [r["id"] for r in _lines(tmp_path / "out" / "samples.jsonl")] == [0, 1]


def test_retries_running_out_stop_the_cli_with_one_line_and_keep_finished_batches(serve, tmp_path, write_jsonl, sums):
    server = serve(faults={"What is 4+5?": ["500", "500", "500"]})  # a 4th attempt would succeed
    data = write_jsonl(tmp_path / "d.jsonl", sums(6))
    out = tmp_path / "out"
    args = ["--backend", "openai", "--base-url", server.url, "--model", MODEL, "--data", data, "--output-dir", out,
            "--batch-size", "2", "--max-retries", "2"]
    failed = _cli(args)
    assert failed.returncode == 2
    last = failed.stderr.strip().splitlines()[-1]
    assert last == (f"evalsuite: error: prompt id 4 (row 5): the server at {server.url} failed 3 attempts "
                    "(--max-retries 2), the last with HTTP 500: HTTP 500 (on purpose); finished batches are saved: "
                    "rerun to resume")
    assert "Traceback" not in failed.stderr
    assert [r["id"] for r in _lines(out / "samples.jsonl")] == [0, 1, 2, 3]
    rerun = _cli(args)  # the server answers the 4th attempt
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["resumed"] == 4 and summary["counts"]["generated"] == 2
    assert [r["id"] for r in _lines(out / "samples.jsonl")] == list(range(6))


def test_sigkill_mid_run_then_resume(serve, tmp_path, write_jsonl, sums):
    server = serve(delays={"What": 0.05})
    total = 20
    data = write_jsonl(tmp_path / "d.jsonl", sums(total))
    samples = tmp_path / "out" / "samples.jsonl"

    def args(out: Path) -> list:
        return ["--backend", "openai", "--base-url", server.url, "--model", MODEL, "--data", data, "--output-dir", out,
                "--batch-size", "1", "--concurrency", "1", "--n", "2", "--temperature", "1"]

    command = [sys.executable, "-m", "evalsuite", "run", *map(str, args(tmp_path / "out")), "--no-progress"]
    done = sigkill_after_lines(command, samples)
    assert 3 <= done < total
    before = samples.read_bytes()
    before = before[: before.rfind(b"\n") + 1]
    finished = _cli(args(tmp_path / "out"))
    assert finished.returncode == 0, finished.stderr
    records = _lines(samples)
    assert samples.read_bytes().startswith(before)  # finished lines untouched
    assert sorted(r["id"] for r in records) == list(range(total))  # nothing lost, nothing duplicated
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["counts"]["resumed"] == done
    # every sample was drawn with its own seed, so the resumed run holds what one uninterrupted run draws
    fresh = _cli(args(tmp_path / "fresh"))
    assert fresh.returncode == 0, fresh.stderr
    assert [r["completions"] for r in _lines(tmp_path / "fresh" / "samples.jsonl")] == \
        [r["completions"] for r in sorted(records, key=lambda r: r["id"])]


def test_a_grown_n_draws_exactly_the_missing_samples(serve, tmp_path, write_jsonl, sums):
    server = serve()
    data = write_jsonl(tmp_path / "d.jsonl", sums(3))
    sampled = dict(temperature=1.0, seed=5)
    run(_config(server, data, tmp_path / "grown", n=2, **sampled), progress=False)
    first = _lines(tmp_path / "grown" / "samples.jsonl")
    asked_before = len(server.requests())
    summary = run(_config(server, data, tmp_path / "grown", n=4, k=(1, 4), **sampled), progress=False)
    assert summary["counts"]["extended"] == 3
    grown = _lines(tmp_path / "grown" / "samples.jsonl")
    assert [r["completions"][:2] for r in grown] == [r["completions"] for r in first]
    # only samples 2 and 3 were asked for, seeded seed + prompt index + sample number
    assert sorted(r["body"]["seed"] for r in server.requests()[asked_before:]) == sorted(
        5 + i + j for i in range(3) for j in (2, 3))
    run(_config(server, data, tmp_path / "at-once", n=4, k=(1, 4), **sampled), progress=False)
    assert [r["completions"] for r in _lines(tmp_path / "at-once" / "samples.jsonl")] == [r["completions"] for r in grown]


@pytest.mark.parametrize(
    "behaviour, later_requests",
    [
        ({"reject_seed": True}, [3]),  # n in one request
        ({"reject_seed": True, "ignore_n": True}, [3, 1, 1, 1]),  # one choice came back: then one request per sample
        ({"reject_seed": True, "no_logprobs": True}, [3, 1, 1, 1]),  # no per-choice token counts: the same
    ],
)
def test_a_server_without_seeds_gets_n_in_one_request_where_it_honours_it(serve, tmp_path, write_jsonl, sums, caplog,
                                                                           behaviour, later_requests):
    server = serve(**behaviour)
    data = write_jsonl(tmp_path / "d.jsonl", sums(2))
    with caplog.at_level("WARNING", logger="evalsuite.backends.openai"):
        run(_config(server, data, tmp_path / "out", n=3, temperature=1.0, k=(1, 3), batch_size=1), progress=False)
    for record in _lines(tmp_path / "out" / "samples.jsonl"):
        assert len(record["completions"]) == 3 and record["lengths"] == [7, 7, 7]
    first = [r["body"] for r in server.requests() if _question(r) == "What is 0+1?"]
    # the first prompt's three seeded requests are refused, each then sent again without a seed
    assert sorted(b.get("seed", -1) for b in first) == [-1, -1, -1, 0, 1, 2] and {b["n"] for b in first} == {1}
    later = [r["body"] for r in server.requests() if _question(r) == "What is 1+2?"]
    assert [b["n"] for b in later] == later_requests and not any("seed" in b for b in later)
    assert [r.getMessage() for r in caplog.records].count(
        "the server refuses `seed` (HTTP 400: Unrecognized request argument supplied: seed): samples are drawn "
        "unseeded from now on, so a rerun or a grown n does not reproduce them") == 1


def test_token_counts_truncation_stop_strings_and_top_k(serve, tmp_path, write_jsonl, sums):
    server = serve()
    data = write_jsonl(tmp_path / "d.jsonl", sums(2))
    run(_config(server, data, tmp_path / "short", max_tokens=3, temperature=1.0, top_k=20), progress=False)
    for r in _lines(tmp_path / "short" / "samples.jsonl"):
        assert r["lengths"] == [3] and r["truncated"] == [True] and r["finish_reasons"] == ["length"]
    assert {r["body"]["top_k"] for r in server.requests()} == {20}
    run(_config(server, data, tmp_path / "stop", stop=("sum",)), progress=False)
    records = _lines(tmp_path / "stop" / "samples.jsonl")
    assert [r["completions"] for r in records] == [["The "], ["The "]] and records[0]["truncated"] == [False]
    assert server.requests()[-1]["body"]["stop"] == ["sum"] and "top_k" not in server.requests()[-1]["body"]


def test_the_key_is_sent_as_bearer_token_and_never_written_or_logged(serve, tmp_path, write_jsonl, sums):
    key = "sk-test-4f1d9c0a7e2b"
    server = serve(api_key=key, faults={"What is 1+2?": ["429"]})
    data = write_jsonl(tmp_path / "d.jsonl", sums(3))
    out = tmp_path / "out"
    args = ["--backend", "openai", "--base-url", server.url, "--model", MODEL, "--data", data, "--output-dir", out,
            "--api-key-env", "EVAL_KEY"]
    done = _cli(args, env={"EVAL_KEY": key})
    assert done.returncode == 0, done.stderr
    assert "retry 1 of 6" in done.stderr  # the retry was logged, without the key
    assert {r["authorization"] for r in server.requests()} == {f"Bearer {key}"}
    # a wrong key: the server echoes it in its 401; the error masks it
    elsewhere = [tmp_path / "refused" if a == out else a for a in args]
    refused = _cli(elsewhere, env={"EVAL_KEY": key + "x"})
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1] == (
        f"evalsuite: error: {server.url}/models: the server at {server.url} refused the request (HTTP 401: Incorrect "
        "API key provided: ***.); check the key in EVAL_KEY (--api-key-env VAR reads another variable)")
    for text in (done.stdout, done.stderr, refused.stdout, refused.stderr):
        assert key not in text
    written = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"samples.jsonl", "summary.json", "run.json"}
    assert not any(key.encode() in p.read_bytes() for p in written)
    missing = _cli(elsewhere, env={"EVAL_KEY": ""})
    assert missing.returncode == 2 and missing.stderr.strip().splitlines()[-1].endswith(
        "; set EVAL_KEY to the server's key (--api-key-env VAR reads another variable)")


def test_images_go_as_image_url_parts(serve, tmp_path):
    from PIL import Image

    server = serve()
    path = tmp_path / "red.png"
    Image.new("RGB", (4, 3), (255, 0, 0)).save(path)
    rows = [{"prompt": "How many squares? 2", "images": [str(path)], "solution": "2"},
            {"messages": [{"role": "user", "content": [{"type": "text", "text": "Compare 1"}, {"type": "image"},
                                                       {"type": "text", "text": "and"}, {"type": "image"}]}],
             "images": [str(path), str(path)], "solution": "1"}]
    run(EvalConfig(model=MODEL, backend="openai", base_url=server.url, output_dir=str(tmp_path / "out"),
                   system_prompt="Count."), rows=rows, progress=False)
    first, second = (r["body"]["messages"] for r in server.requests())
    assert first[0] == {"role": "system", "content": "Count."}
    image, text = first[1]["content"]
    assert text == {"type": "text", "text": "How many squares? 2"} and image["type"] == "image_url"
    head, payload = image["image_url"]["url"].split(",", 1)
    assert head == "data:image/png;base64,"[:-1]
    decoded = Image.open(io.BytesIO(base64.b64decode(payload)))
    assert decoded.size == (4, 3) and decoded.getpixel((0, 0)) == (255, 0, 0)
    assert [p["type"] for p in second[1]["content"]] == ["text", "image_url", "text", "image_url"]


def test_completions_endpoint_sends_the_base_model_prompt_and_blocks_a_chat_resume(serve, tmp_path, write_jsonl, sums):
    server = serve()
    data = write_jsonl(tmp_path / "d.jsonl", sums(2))
    out = tmp_path / "out"
    run(_config(server, data, out, endpoint="completions", system_prompt="Add."), progress=False)
    asked = server.requests()
    assert {r["path"] for r in asked} == {"/v1/completions"}
    assert asked[0]["body"]["prompt"] == "Add.\n\nWhat is 0+1?"
    assert [r["completions"] for r in _lines(out / "samples.jsonl")] == [["The sum is \\boxed{1}"], ["The sum is \\boxed{3}"]]
    with pytest.raises(EvalError, match="holds a run with different settings"):
        run(_config(server, data, out, system_prompt="Add."), progress=False)


def test_where_the_server_is_and_how_it_is_asked_do_not_block_a_resume(serve, tmp_path, write_jsonl, sums):
    first, second = serve(), serve()
    out = tmp_path / "out"
    run(_config(first, write_jsonl(tmp_path / "d.jsonl", sums(2)), out), progress=False)
    summary = run(_config(second, write_jsonl(tmp_path / "d.jsonl", sums(4)), out, concurrency=2, max_retries=1,
                          request_timeout=30.0), progress=False)
    assert summary["counts"]["resumed"] == 2 and summary["counts"]["generated"] == 2
    assert len(first.requests()) == 2 and len(second.requests()) == 2


def test_generate_works_where_an_event_loop_already_runs(serve):
    import asyncio

    from evalsuite.backends.base import Prompt, Sampling

    server = serve()
    backend = OpenAIBackend(base_url=server.url, model=MODEL)

    async def inside_a_loop():
        return backend.generate([Prompt([{"role": "user", "content": "What is 2+2?"}])], Sampling(n=2))

    (samples,) = asyncio.run(inside_a_loop())
    assert [c.text for c in samples] == ["The sum is \\boxed{4}"] * 2 and samples[0].length == 4


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--base-url", "http://x/v1"],
         "--base-url is a setting of the openai backend; add --backend openai, or leave it out for the transformers backend"),
        (["--backend", "vllm", "--concurrency", "4"],
         "--concurrency is a setting of the openai backend; add --backend openai, or leave it out for the vllm backend"),
        (["--backend", "openai"],
         "--backend openai needs --base-url URL, the server's OpenAI API root (e.g. http://localhost:8000/v1)"),
        (["--backend", "openai", "--base-url", "http://x/v1", "--device", "cpu"],
         "--device is a setting of the backends that load the model; the server at --base-url loads it itself"),
        (["--backend", "openai", "--base-url", "http://x/v1", "--tensor-parallel-size", "2"],
         "--tensor-parallel-size is a vLLM setting; add --backend vllm, or leave it out for the openai backend"),
        (["--backend", "openai", "--base-url", "http://x/v1", "--concurrency", "0"], "concurrency must be >= 1, got 0"),
        (["--backend", "openai", "--base-url", "http://x/v1", "--max-retries", "-1"], "max_retries must be >= 0, got -1"),
    ],
)
def test_bad_settings(capsys, sums_file, flags, message):
    from evalsuite.cli import main

    assert main(["run", "--model", MODEL, "--data", str(sums_file), *flags]) == 2
    assert capsys.readouterr().err.strip() == f"evalsuite: error: {message}"


def test_start_up_checks_name_what_is_wrong(serve, capsys, sums_file, tmp_path):
    from evalsuite.cli import main

    server = serve(models=["a", "b"])
    closed = f"http://127.0.0.1:{_free_port()}/v1"
    cases = [
        (server.url, "c", f"the server at {server.url} does not serve 'c' (--model); it serves: a, b"),
        (server.url.removesuffix("/v1"), "a",
         f"{server.url.removesuffix('/v1')}/models: the server at {server.url.removesuffix('/v1')} refused the request "
         "(HTTP 404: Not Found); an OpenAI-compatible API root usually ends in /v1"),
        (closed, "a", f"cannot reach the server at {closed} (ConnectError: All connection attempts failed); is it "
                      "running, and is --base-url right?"),
    ]
    for url, model, message in cases:
        code = main(["run", "--backend", "openai", "--base-url", url, "--model", model, "--data", str(sums_file),
                     "--output-dir", str(tmp_path / "out"), "--no-progress"])
        assert code == 2 and capsys.readouterr().err.strip().splitlines()[-1] == f"evalsuite: error: {message}"
    assert not (tmp_path / "out" / "run.json").exists()  # nothing written that would block the corrected rerun
