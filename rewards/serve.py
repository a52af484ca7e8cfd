"""``rewards serve``: the reward server, OpenRLHF's ``POST /get_reward`` and the versioned ``POST /v1/score``, with ``/health`` and ``/metrics``, on Starlette and uvicorn.
It must never compute on the event loop, queue without bound, answer bad input with anything but a 4xx and its reason, or listen beyond loopback without a token."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from rewards.adapters.openrlhf import score_queries
from rewards.adapters.reward_set import RewardSet
from rewards.completions import TRAINER_EXTRAS

_log = logging.getLogger(__name__)

SERVE_EXTRA = "rewards serve needs the 'serve' extra: pip install 'grpokit[serve]'"


@dataclass(frozen=True)
class Settings:
    """What one server runs: the reward set and its limits.

    ``max_concurrency`` requests compute at once (each in a worker thread); up to ``max_queue`` more
    wait; beyond that a request gets 429 at once. ``deadline`` bounds a request from arrival to answer
    (waiting included): past it the answer is 504 (the computation finishes in its thread, and its slot
    is freed only then). Memory held by bodies is at most ``(max_concurrency + max_queue) * max_body_bytes``.
    """

    rewards: str = "accuracy"
    params: dict[str, Any] | None = None
    score_reward: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    max_body_bytes: int = 4 * 2**20
    max_batch: int = 4096
    max_concurrency: int = 4
    max_queue: int = 512
    deadline: float = 120.0
    log_level: str = "info"
    access_log: bool = False

    def checked(self) -> Settings:
        """These settings, or ValueError (one line) when a limit is out of range or a non-loopback host has no token."""
        for name in ("max_body_bytes", "max_batch", "max_concurrency"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name.replace('_', '-')} must be an integer >= 1, got {getattr(self, name)!r}")
        if not isinstance(self.max_queue, int) or self.max_queue < 0:
            raise ValueError(f"max-queue must be an integer >= 0, got {self.max_queue!r}")
        if not (isinstance(self.deadline, (int, float)) and math.isfinite(self.deadline) and self.deadline > 0):
            raise ValueError(f"deadline must be a number of seconds > 0, got {self.deadline!r}")
        if not (isinstance(self.port, int) and 0 <= self.port <= 65535):
            raise ValueError(f"port must be an integer in [0, 65535], got {self.port!r}")
        if self.token is not None and not self.token.strip():
            raise ValueError("the token is empty; give a non-empty --token or GRPOKIT_TOKEN, or none on loopback")
        if not is_loopback(self.host) and not self.token:
            raise ValueError(f"refusing to listen on {self.host!r} without a token: anyone who reaches it could "
                             f"use it; set GRPOKIT_TOKEN (or --token), or bind 127.0.0.1")
        return self


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``); a name that may resolve elsewhere is not.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class RequestError(Exception):
    """A request the server refuses: HTTP ``status`` and the reason, sent back as ``{"error": reason}``."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def authorized(header: str | None, token: str | None) -> bool:
    """Does the ``Authorization`` header carry ``Bearer <token>``? Compared in constant time; no token: everyone is.

    >>> authorized("Bearer s3cret", "s3cret"), authorized("Bearer guess", "s3cret"), authorized(None, None)
    (True, False, True)
    """
    if not token:
        return True
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def parse_body(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object; RequestError 400 naming what is wrong (UTF-8, JSON, not an object).

    >>> parse_body(b'{"query": ["a"]}')
    {'query': ['a']}
    >>> parse_body(b'{"query": [NaN]}')
    Traceback (most recent call last):
    ...
    rewards.serve.RequestError: malformed JSON: NaN is not a JSON number
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RequestError(400, f"the body is not valid UTF-8 (byte {raw[err.start]:#04x} at offset {err.start})") from None

    def no_constants(name: str) -> Any:
        raise RequestError(400, f"malformed JSON: {name} is not a JSON number")

    try:
        body = json.loads(text, parse_constant=no_constants)
    except json.JSONDecodeError as err:
        raise RequestError(400, f"malformed JSON: {err}") from None
    except RecursionError:
        raise RequestError(400, "malformed JSON: nested too deeply") from None
    if not isinstance(body, dict):
        raise RequestError(400, f"the body must be a JSON object, got {type(body).__name__}")
    return body


def _list_field(body: dict[str, Any], key: str, n: int | None, *, required: bool = False) -> list[Any] | None:
    value = body.get(key)
    if value is None:
        if required:
            raise RequestError(400, f"missing field {key!r} (a list with one entry per sample)")
        return None
    if not isinstance(value, list):
        raise RequestError(400, f"field {key!r} must be a list, got {type(value).__name__}")
    if n is not None and len(value) != n:
        raise RequestError(400, f"field {key!r} has {len(value)} entries for {n} samples; give one per sample")
    return value


def _check_batch_size(n: int, settings: Settings) -> None:
    if n > settings.max_batch:
        raise RequestError(413, f"a batch of {n} samples is over the limit of {settings.max_batch} (--max-batch)")


def _check_strings(values: list[Any], key: str) -> None:
    bad = next((i for i, v in enumerate(values) if not isinstance(v, str)), None)
    if bad is not None:
        raise RequestError(400, f"{key}[{bad}] must be a string, got {type(values[bad]).__name__}")


def openrlhf_request(body: dict[str, Any], settings: Settings) -> tuple[list[str], list[str] | None, list[Any] | None]:
    """``(queries, prompts, labels)`` of a ``/get_reward`` body (``prompts`` and ``labels`` optional), checked."""
    queries = _list_field(body, "query", None, required=True)
    _check_batch_size(len(queries), settings)
    _check_strings(queries, "query")
    prompts = _list_field(body, "prompts", len(queries))
    if prompts is not None:
        _check_strings(prompts, "prompts")
    return queries, prompts, _list_field(body, "labels", len(queries))


def _check_completion(value: Any, where: str) -> None:
    if isinstance(value, str):
        return
    if not isinstance(value, list):
        raise RequestError(400, f"{where} must be a string or a list of messages, got {type(value).__name__}")
    for j, message in enumerate(value):
        if not isinstance(message, dict) or not isinstance(message.get("role", ""), str):
            raise RequestError(400, f"{where}[{j}] must be a message {{\"role\": str, \"content\": ...}}")
        content = message.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise RequestError(400, f"{where}[{j}].content must be a string or a list of parts")


def score_request(body: dict[str, Any], settings: Settings) -> tuple[list[Any], dict[str, list[Any]]]:
    """``(completions, columns)`` of a ``/v1/score`` body, checked: ``completions`` (strings or conversations),
    optional ``prompts`` and ``completion_ids``, and any other key a dataset column with one value per sample."""
    completions = _list_field(body, "completions", None, required=True)
    n = len(completions)
    _check_batch_size(n, settings)
    for i, completion in enumerate(completions):
        _check_completion(completion, f"completions[{i}]")
    reserved = sorted(TRAINER_EXTRAS & set(body))
    if reserved:
        raise RequestError(400, f"field(s) {', '.join(reserved)} are set by trainers, not by a request")
    columns: dict[str, list[Any]] = {}
    for key in body:
        if key != "completions":
            columns[key] = _list_field(body, key, n, required=True)
    for i, ids in enumerate(columns.get("completion_ids", [])):
        if not isinstance(ids, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in ids):
            raise RequestError(400, f"completion_ids[{i}] must be a list of integer token ids")
    return completions, columns


class Metrics:
    """Prometheus metrics of one server (its own registry): requests by endpoint and status, latency,
    deadline timeouts, samples scored, reward errors, requests in flight, and verify's timeout count."""

    def __init__(self, in_flight: Callable[[], int]):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
        from prometheus_client.core import CounterMetricFamily

        from rewards import timeout_count

        class _VerifyTimeouts:
            def collect(self):
                yield CounterMetricFamily("grpokit_verify_timeouts", "Math checks that ran past their timeout "
                                          "(each scored as not equal)", value=timeout_count())

        self.registry = CollectorRegistry()
        self.requests = Counter("grpokit_requests", "Requests answered", ["endpoint", "status"], registry=self.registry)
        self.latency = Histogram("grpokit_request_seconds", "Time from arrival to answer", ["endpoint"],
                                 registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
        self.timeouts = Counter("grpokit_deadline_timeouts", "Requests answered 504 at their deadline",
                                registry=self.registry)
        self.samples = Counter("grpokit_samples_scored", "Samples scored", registry=self.registry)
        self.reward_errors = Counter("grpokit_reward_errors", "Samples on which a reward failed", ["endpoint"],
                                     registry=self.registry)
        gauge = Gauge("grpokit_in_flight", "Requests admitted and not finished computing", registry=self.registry)
        gauge.set_function(in_flight)
        self.registry.register(_VerifyTimeouts())

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class RewardServer:
    """The server's state: the reward set, the worker threads, admission (bounded queue) and metrics."""

    def __init__(self, settings: Settings, reward_set: RewardSet):
        self.settings = settings
        self.reward_set = reward_set
        self.executor = ThreadPoolExecutor(max_workers=settings.max_concurrency, thread_name_prefix="reward")
        self._admitted = 0
        self._lock = threading.Lock()
        self.metrics = Metrics(lambda: self._admitted)

    def admit(self) -> None:
        """Take a slot (computing or waiting), or RequestError 429 when all are taken."""
        with self._lock:
            if self._admitted >= self.settings.max_concurrency + self.settings.max_queue:
                raise RequestError(429, f"busy: {self._admitted} requests are computing or waiting "
                                        f"(--max-concurrency {self.settings.max_concurrency}, "
                                        f"--max-queue {self.settings.max_queue}); retry shortly")
            self._admitted += 1

    def release(self, *_: Any) -> None:
        with self._lock:
            self._admitted -= 1

    async def compute(self, work: Callable[[], Any], started: float) -> Any:
        """Run ``work`` in a worker thread; RequestError 504 past the deadline. The slot is released when the
        thread is done (or when the work is cancelled before it starts), never earlier."""
        job: Future = self.executor.submit(work)
        job.add_done_callback(self.release)
        waiting = asyncio.wrap_future(job)
        waiting.add_done_callback(_retrieve)
        remaining = self.settings.deadline - (time.perf_counter() - started)
        try:
            return await asyncio.wait_for(asyncio.shield(waiting), max(remaining, 0.0))
        except asyncio.TimeoutError:
            job.cancel()
            self.metrics.timeouts.inc()
            raise RequestError(504, f"deadline of {self.settings.deadline:g}s exceeded (--deadline)") from None

    def get_reward(self, queries, prompts, labels) -> dict[str, Any]:
        result = score_queries(queries, prompts, labels, self.reward_set)
        self.metrics.samples.inc(len(queries))
        return result

    def score(self, completions, columns) -> dict[str, Any]:
        results = self.reward_set.score(completions, **columns)
        self.metrics.samples.inc(len(completions))
        failed = sum(1 for r in results if r.error)
        if failed:
            self.metrics.reward_errors.labels("/v1/score").inc(failed)
        return {"results": [{"value": r.value, "rewards": r.rewards, "error": r.error or r.unscored} for r in results]}


def _retrieve(future: asyncio.Future) -> None:
    """Read a finished job's exception, so one whose request already timed out is not reported as never retrieved."""
    if not future.cancelled():
        future.exception()


async def _read_body(request: Any, limit: int) -> bytes:
    """The body, or RequestError 413 as soon as it is known to exceed ``limit`` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestError(400, f"Content-Length {declared!r} is not a byte count")
        if int(declared) > limit:
            raise RequestError(413, f"a body of {int(declared)} bytes is over the limit of {limit} bytes (--max-body-bytes)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"the body is over the limit of {limit} bytes (--max-body-bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(settings: Settings, reward_set: RewardSet | None = None):
    """The Starlette application for ``settings`` (needs the ``serve`` extra)."""
    require_serve_extra()
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    settings = settings.checked()
    server = RewardServer(settings, reward_set or RewardSet(settings.rewards, settings.params, settings.score_reward))

    def authorize(request: Any) -> None:
        if not authorized(request.headers.get("authorization"), settings.token):
            raise RequestError(401, "missing or wrong bearer token (send 'Authorization: Bearer <token>')")

    def endpoint(path: str, handler: Callable[..., Any]):
        async def respond(request: Any):
            started = time.perf_counter()
            try:
                authorize(request)
                response = await handler(request, started)
            except RequestError as err:
                headers = {401: {"WWW-Authenticate": "Bearer"}, 429: {"Retry-After": "1"}}.get(err.status)
                response = JSONResponse({"error": err.reason}, status_code=err.status, headers=headers)
            server.metrics.requests.labels(path, str(response.status_code)).inc()
            server.metrics.latency.labels(path).observe(time.perf_counter() - started)
            return response

        return respond

    async def scored(request: Any, started: float, parse: Callable, work: Callable) -> Any:
        server.admit()
        released = False
        try:
            raw = await _read_body(request, settings.max_body_bytes)
            args = parse(parse_body(raw), settings)
            released = True  # from here on the worker thread releases the slot
            return await server.compute(lambda: work(*args), started)
        finally:
            if not released:
                server.release()

    async def get_reward(request: Any, started: float):
        try:
            result = await scored(request, started, openrlhf_request, server.get_reward)
        except ValueError as err:  # a reward that fails on this batch (e.g. no labels for accuracy)
            server.metrics.reward_errors.labels("/get_reward").inc()
            raise RequestError(422, str(err)) from None
        return JSONResponse(result)

    async def score(request: Any, started: float):
        return JSONResponse(await scored(request, started, score_request, server.score))

    async def health(request: Any, started: float):
        return JSONResponse({"status": "ok", "rewards": server.reward_set.weights,
                             "score_reward": server.reward_set.score_reward})

    async def metrics(request: Any, started: float):
        body, content_type = server.metrics.render()
        return Response(body, media_type=content_type)

    async def http_error(request: Any, exc: HTTPException):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any):
        from rewards import warm_up

        warm_up()
        try:
            yield
        finally:
            server.executor.shutdown(wait=False, cancel_futures=True)

    routes = [
        Route("/get_reward", endpoint("/get_reward", get_reward), methods=["POST"]),
        Route("/v1/score", endpoint("/v1/score", score), methods=["POST"]),
        Route("/health", endpoint("/health", health), methods=["GET"]),
        Route("/metrics", endpoint("/metrics", metrics), methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error}, lifespan=lifespan)
    app.state.server = server
    return app


def run(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM; on either, stop accepting and finish the requests in flight (up to the
    deadline plus 5 s), then exit (status 0 after SIGTERM, 130 after SIGINT, with no traceback). ValueError
    (one line) for bad settings or rewards, before listening."""
    require_serve_extra()
    import uvicorn

    app = create_app(settings)
    if threading.current_thread() is threading.main_thread():
        # uvicorn re-raises the signal once it has shut down gracefully; end the process quietly then.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level=settings.log_level,
                            access_log=settings.access_log, timeout_graceful_shutdown=int(settings.deadline) + 5,
                            lifespan="on")
    _log.info("serving %r on %s:%d (token %s)", app.state.server.reward_set, settings.host, settings.port,
              "required" if settings.token else "off")
    uvicorn.Server(config).run()


def require_serve_extra() -> None:
    """ModuleNotFoundError naming the ``serve`` extra (one line) when Starlette, uvicorn or prometheus_client is missing."""
    for module in ("starlette", "uvicorn", "prometheus_client"):
        try:
            __import__(module)
        except ModuleNotFoundError:
            raise ModuleNotFoundError(f"{SERVE_EXTRA} ({module} is not installed)", name=module) from None


def token_from_env(explicit: str | None) -> str | None:
    """``explicit`` (``--token``) if given, else ``GRPOKIT_TOKEN`` (unset or empty: no token)."""
    return explicit if explicit is not None else (os.environ.get("GRPOKIT_TOKEN") or None)
