"""``rewards serve``: the reward server, OpenRLHF's ``POST /get_reward`` and the versioned ``POST /v1/score``, with ``/health`` and ``/metrics``, on Starlette and granian.
It must never compute on the event loop, queue or hold a connection without bound, answer bad input with anything but a JSON 4xx and its reason, or listen beyond loopback without a token."""

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

from rewards.adapters import openrlhf
from rewards.adapters.reward_set import RewardSet, Scored, Stopped
from rewards.completions import TRAINER_EXTRAS

_log = logging.getLogger(__name__)

SERVE_EXTRA = "rewards serve needs the 'serve' extra: pip install 'grpokit[serve]'"
MIN_TOKEN_CHARS = 16
FD_RESERVE = 128  # file descriptors kept for everything but client connections (logs, verify workers, ...)
_MAX_INT_DIGITS = 4300  # Python's own limit for int(str); longer JSON integers are refused, not converted


@dataclass(frozen=True)
class Settings:
    """What one server runs: the reward set and its limits.

    ``max_concurrency`` requests compute at once (each in a worker thread); up to ``max_queue`` more wait
    (reading their bodies or queued for a thread); beyond that a request gets 429 at once. ``deadline`` bounds
    a request from arrival to answer (body, waiting and computing included): past it the answer is 408 (the
    body had not arrived) or 504, and its computing is cancelled. A connection must send a request's headers
    within ``header_timeout`` seconds of opening or of its previous answer, and at most ``max_connections``
    are open at once (more wait in the kernel's backlog). SIGTERM lets requests finish for at most
    ``deadline + shutdown_grace`` seconds.
    """

    rewards: str = "accuracy"
    params: dict[str, Any] | None = None
    score_reward: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    tokenizer: str | None = None
    max_body_bytes: int = 4 * 2**20
    max_batch: int = 4096
    max_concurrency: int = 4
    max_queue: int = 512
    deadline: float = 120.0
    header_timeout: float = 10.0
    max_connections: int | None = None
    shutdown_grace: float = 5.0
    log_level: str = "info"
    access_log: bool = False

    def checked(self) -> Settings:
        """These settings, or ValueError (one line) when a limit is out of range, the token is short, or a
        non-loopback host has no token."""
        for name in ("max_body_bytes", "max_batch", "max_concurrency"):
            if not _is_int(getattr(self, name)) or getattr(self, name) < 1:
                raise ValueError(f"{name.replace('_', '-')} must be an integer >= 1, got {getattr(self, name)!r}")
        if not _is_int(self.max_queue) or self.max_queue < 0:
            raise ValueError(f"max-queue must be an integer >= 0, got {self.max_queue!r}")
        if self.max_connections is not None and (not _is_int(self.max_connections) or self.max_connections < 1):
            raise ValueError(f"max-connections must be an integer >= 1, got {self.max_connections!r}")
        for name in ("deadline", "header_timeout"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name.replace('_', '-')} must be a number of seconds > 0, got {value!r}")
        if not (isinstance(self.shutdown_grace, (int, float)) and 0 <= self.shutdown_grace < math.inf):
            raise ValueError(f"shutdown-grace must be a number of seconds >= 0, got {self.shutdown_grace!r}")
        if not (_is_int(self.port) and 0 <= self.port <= 65535):
            raise ValueError(f"port must be an integer in [0, 65535], got {self.port!r}")
        if self.token is not None and not self.token.strip():
            raise ValueError("the token is empty; give a non-empty --token or GRPOKIT_TOKEN, or none on loopback")
        if self.token is not None and len(self.token) < MIN_TOKEN_CHARS:
            raise ValueError(f"the token has {len(self.token)} characters; use at least {MIN_TOKEN_CHARS} random "
                             f"ones (e.g. the output of: openssl rand -hex 24)")
        if not is_loopback(self.host) and not self.token:
            raise ValueError(f"refusing to listen on {self.host!r} without a token: anyone who reaches it could "
                             f"use it; set GRPOKIT_TOKEN (or --token), or bind 127.0.0.1")
        return self

    @property
    def connections(self) -> int:
        """The cap on open connections: ``max_connections``, else room for every admitted request plus 32."""
        return self.max_connections or self.max_concurrency + self.max_queue + 32

    @property
    def host_checked(self) -> bool:
        """Whether requests must name a loopback host (a tokenless loopback server: the DNS-rebinding guard)."""
        return not self.token and is_loopback(self.host)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``); a name that may resolve elsewhere is not.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def loopback_host_header(value: str | None) -> bool:
    """Does a ``Host`` (or ``Origin``) header name a loopback host (any port)? No header: True (no browser omits it).

    >>> [loopback_host_header(h) for h in ("127.0.0.1:8000", "localhost", "[::1]:80", "evil.example:8000", None)]
    [True, True, True, False, True]
    """
    if value is None:
        return True
    value = value.strip()
    if "://" in value:  # an Origin: scheme://host[:port]
        value = value.split("://", 1)[1]
    if value.startswith("["):
        return is_loopback(value[1:value.find("]")] if "]" in value else value)
    name, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    return is_loopback(name) and (port == "" or port.isdigit())


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
    """A request body as a JSON object; RequestError 400 naming what is wrong (UTF-8, JSON, numbers, not an object).

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

    def integer(digits: str) -> int:
        if len(digits.lstrip("-")) > _MAX_INT_DIGITS:
            raise RequestError(400, f"a JSON integer has {len(digits.lstrip('-'))} digits; at most {_MAX_INT_DIGITS} "
                                    f"are accepted (send longer numbers as strings)")
        return int(digits)

    def real(number: str) -> float:
        value = float(number)
        if not math.isfinite(value):
            raise RequestError(400, f"a JSON number ({number[:40]}) is out of range for a double")
        return value

    try:
        body = json.loads(text, parse_constant=no_constants, parse_int=integer, parse_float=real)
    except json.JSONDecodeError as err:
        raise RequestError(400, f"malformed JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    except RecursionError:
        raise RequestError(400, "malformed JSON: nested too deeply") from None
    if not isinstance(body, dict):
        raise RequestError(400, f"the body must be a JSON object, got {_json_type(body)}")
    return body


def _json_type(value: Any) -> str:
    """The JSON name of a parsed value's type (never a Python one)."""
    if value is None:
        return "null"
    for kind, name in ((bool, "a boolean"), (str, "a string"), ((int, float), "a number"), (list, "an array"),
                       (dict, "an object")):
        if isinstance(value, kind):
            return name
    return "a value"


def _list_field(body: dict[str, Any], key: str, n: int | None, *, required: bool = False) -> list[Any] | None:
    value = body.get(key)
    if value is None:
        if required:
            raise RequestError(400, f"missing field {key!r} (an array with one entry per sample)")
        return None
    if not isinstance(value, list):
        raise RequestError(400, f"field {key!r} must be an array, got {_json_type(value)}")
    if n is not None and len(value) != n:
        raise RequestError(400, f"field {key!r} has {len(value)} entries for {n} samples; give one per sample")
    return value


def _check_batch_size(n: int, settings: Settings) -> None:
    if n > settings.max_batch:
        raise RequestError(413, f"a batch of {n} samples is over the limit of {settings.max_batch} (--max-batch)")


def _check_strings(values: list[Any], key: str) -> None:
    bad = next((i for i, v in enumerate(values) if not isinstance(v, str)), None)
    if bad is not None:
        raise RequestError(400, f"{key}[{bad}] must be a string, got {_json_type(values[bad])}")


def openrlhf_request(body: dict[str, Any], settings: Settings) -> tuple[list[str], list[str] | None, list[Any] | None]:
    """``(queries, prompts, labels)`` of a ``/get_reward`` body (``prompts`` and ``labels`` optional), checked:
    a label is a string, a number, null, or an object of them (its keys become columns)."""
    queries = _list_field(body, "query", None, required=True)
    _check_batch_size(len(queries), settings)
    _check_strings(queries, "query")
    prompts = _list_field(body, "prompts", len(queries))
    if prompts is not None:
        bad = next((i for i, p in enumerate(prompts) if p is not None and not isinstance(p, str)), None)
        if bad is not None:
            raise RequestError(400, f"prompts[{bad}] must be a string, got {_json_type(prompts[bad])}")
    labels = _list_field(body, "labels", len(queries))
    for i, label in enumerate(labels or ()):
        if isinstance(label, dict):
            bad = next((k for k in label if not k.isidentifier()), None)
            if bad is not None:
                raise RequestError(400, f"labels[{i}] has the key {ascii(bad)}, which cannot name a column "
                                        f"(use letters, digits and underscores)")
        elif isinstance(label, list):
            raise RequestError(400, f"labels[{i}] must be a string, a number, null or an object, got an array")
    return queries, prompts, labels


def _check_completion(value: Any, where: str) -> None:
    if isinstance(value, str):
        return
    if not isinstance(value, list):
        raise RequestError(400, f"{where} must be a string or an array of messages, got {_json_type(value)}")
    for j, message in enumerate(value):
        if not isinstance(message, dict) or not isinstance(message.get("role", ""), str):
            raise RequestError(400, f"{where}[{j}] must be a message {{\"role\": string, \"content\": ...}}")
        content = message.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise RequestError(400, f"{where}[{j}].content must be a string or an array of parts")


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
        if key == "completions":
            continue
        if not key.isidentifier() or key == "self":
            raise RequestError(400, f"field {ascii(key)} cannot name a column (use letters, digits and "
                                    f"underscores; 'self' is reserved)")
        columns[key] = _list_field(body, key, n, required=True)
    for i, ids in enumerate(columns.get("completion_ids", [])):
        if not isinstance(ids, list) or not all(_is_int(t) for t in ids):
            raise RequestError(400, f"completion_ids[{i}] must be an array of integer token ids")
    return completions, columns


class Metrics:
    """Prometheus metrics of one server (its own registry): requests by endpoint and status, latency,
    deadline timeouts, samples scored and left unscored (by reason), reward errors, requests in flight,
    verify's timeout count, and the reward set's weights."""

    def __init__(self, in_flight: Callable[[], int], weights: dict[str, float]):
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
        self.unscored = Counter("grpokit_unscored_samples", "Samples answered without a score, by reason",
                                ["endpoint", "reason"], registry=self.registry)
        self.reward_errors = Counter("grpokit_reward_errors", "Samples on which a reward failed", ["endpoint"],
                                     registry=self.registry)
        gauge = Gauge("grpokit_in_flight", "Requests admitted and not finished computing", registry=self.registry)
        gauge.set_function(in_flight)
        weight = Gauge("grpokit_reward_weight", "Weight of each reward of the set", ["reward"], registry=self.registry)
        for name, value in weights.items():
            weight.labels(name).set(value)
        self.registry.register(_VerifyTimeouts())

    def count_unscored(self, endpoint: str, results: list[Scored]) -> None:
        for result in results:
            if result.value is None:
                reason = ("reward_error" if result.error else "response_not_found"
                          if result.unscored == openrlhf.NOT_FOUND else "no_reward_applied")
                self.unscored.labels(endpoint, reason).inc()
        failed = sum(1 for r in results if r.error)
        if failed:
            self.reward_errors.labels(endpoint).inc(failed)

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class RewardServer:
    """The server's state: the reward set, the worker threads, admission (bounded queue), cancellation and metrics."""

    def __init__(self, settings: Settings, reward_set: RewardSet, template: openrlhf.Template = openrlhf.KNOWN):
        self.settings = settings
        self.reward_set = reward_set
        self.template = template
        self.executor = ThreadPoolExecutor(max_workers=settings.max_concurrency, thread_name_prefix="reward")
        self._admitted = 0
        self._lock = threading.Lock()
        self.cancels: set[threading.Event] = set()  # one per request computing or waiting for a thread
        self.metrics = Metrics(lambda: self._admitted, reward_set.weights)

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

    async def compute(self, request: Any, work: Callable[[float, threading.Event], Any], started: float) -> Any:
        """Run ``work(cutoff, cancelled)`` in a worker thread, where ``cutoff`` is the deadline as a
        ``time.monotonic()`` time. Past the deadline: RequestError 504; if the client leaves first: RequestError
        499. Either way ``cancelled`` is set, so the work stops at its next check (symbolic checks are cut at
        the cutoff by ``rewards.answers.engine.bounded``). The slot is released when the thread is done (or the
        work is cancelled before it starts), never earlier."""
        remaining = self.settings.deadline - (time.perf_counter() - started)
        cancelled = threading.Event()
        cutoff = time.monotonic() + max(remaining, 0.0)
        job: Future = self.executor.submit(work, cutoff, cancelled)
        self.cancels.add(cancelled)
        job.add_done_callback(self.release)
        job.add_done_callback(lambda _: self.cancels.discard(cancelled))
        waiting = asyncio.wrap_future(job)
        waiting.add_done_callback(_retrieve)
        gone = asyncio.ensure_future(_disconnected(request))
        try:
            done, _ = await asyncio.wait({waiting, gone}, timeout=max(remaining, 0.0), return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if waiting in done:
            try:
                return waiting.result()
            except RequestError as err:
                if err.status == 504:
                    self.metrics.timeouts.inc()
                raise
        cancelled.set()
        job.cancel()
        if gone in done:
            raise RequestError(499, "the client closed the connection before the answer")
        self.metrics.timeouts.inc()
        raise RequestError(504, f"deadline of {self.settings.deadline:g}s exceeded (--deadline)")

    def cancel_all(self) -> None:
        for cancelled in list(self.cancels):
            cancelled.set()

    def get_reward(self, queries, prompts, labels, cutoff: float, cancelled: threading.Event) -> dict[str, Any]:
        try:
            results = _bounded(cutoff, cancelled, lambda: openrlhf.score_samples(
                queries, prompts, labels, self.reward_set, self.template, cancelled.is_set))
        except ValueError as err:  # a reward that fails on this batch (e.g. no labels for accuracy)
            self.metrics.reward_errors.labels("/get_reward").inc()
            raise RequestError(422, str(err)) from None
        self.metrics.samples.inc(len(queries))
        self.metrics.count_unscored("/get_reward", results)
        return {**openrlhf.reply(results, self.reward_set),
                "unscored": [r.error or r.unscored if r.value is None else None for r in results]}

    def score(self, completions, columns, cutoff: float, cancelled: threading.Event) -> dict[str, Any]:
        results = _bounded(cutoff, cancelled, lambda: self.reward_set.score_columns(completions, columns,
                                                                                    cancelled.is_set))
        self.metrics.samples.inc(len(completions))
        self.metrics.count_unscored("/v1/score", results)
        return {"results": [{"value": r.value, "rewards": r.rewards, "error": r.error or r.unscored} for r in results]}


def _bounded(cutoff: float, cancelled: threading.Event, work: Callable[[], Any]) -> Any:
    from rewards.answers.engine import bounded

    if cancelled.is_set():
        raise RequestError(504, "cancelled before it started")
    with bounded(cutoff, cancelled):
        try:
            result = work()
        except Stopped:
            raise RequestError(504, "cancelled: the deadline passed or the client left") from None
    if time.monotonic() >= cutoff:  # checks cut at the deadline came back as timeouts: not an answer to pay on
        raise RequestError(504, "deadline exceeded while computing (--deadline)")
    return result


async def _disconnected(request: Any) -> None:
    """Returns when the client has closed the connection (the ASGI ``http.disconnect`` after the body)."""
    while True:
        message = await request.receive()
        if message.get("type") == "http.disconnect":
            return
        await asyncio.sleep(0.05)  # anything else (a server that repeats the end of the body): look again later


def _retrieve(future: asyncio.Future) -> None:
    """Read a finished job's exception, so one whose request already timed out is not reported as never retrieved."""
    if not future.cancelled():
        future.exception()


async def _read_body(request: Any, limit: int) -> bytes:
    """The body, or RequestError 413 as soon as it is known to exceed ``limit`` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestError(400, f"Content-Length {ascii(declared)[:40]} is not a byte count")
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

    class JSON(JSONResponse):
        def render(self, content: Any) -> bytes:  # ASCII: a lone surrogate from a request cannot break the answer
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()

    settings = settings.checked()
    template = openrlhf.tokenizer_template(settings.tokenizer) if settings.tokenizer else openrlhf.KNOWN
    server = RewardServer(settings, reward_set or RewardSet(settings.rewards, settings.params, settings.score_reward),
                          template)

    def gatekeep(request: Any, needs_token: bool) -> None:
        if settings.host_checked:
            for header in ("host", "origin"):
                if not loopback_host_header(request.headers.get(header)):
                    raise RequestError(403, f"the {header} {ascii(request.headers.get(header))[:80]} is not loopback: "
                                            f"a server without a token answers only requests addressed to "
                                            f"127.0.0.1 or localhost (a guard against DNS rebinding)")
        if needs_token and not authorized(request.headers.get("authorization"), settings.token):
            raise RequestError(401, "missing or wrong bearer token (send 'Authorization: Bearer <token>')")

    def count(path: str, status: int, started: float) -> None:
        server.metrics.requests.labels(path, str(status)).inc()
        server.metrics.latency.labels(path).observe(time.perf_counter() - started)

    def endpoint(path: str, handler: Callable[..., Any], needs_token: bool = True):
        async def respond(request: Any):
            started = time.perf_counter()
            try:
                gatekeep(request, needs_token)
                response = await handler(request, started)
            except RequestError as err:
                headers = {401: {"WWW-Authenticate": "Bearer"}, 429: {"Retry-After": "1"}}.get(err.status)
                response = JSON({"error": err.reason}, status_code=err.status, headers=headers)
            except Exception:  # a bug of ours: logged with its traceback, answered as JSON and counted
                _log.exception("rewards serve: %s failed", path)
                response = JSON({"error": "internal error (the server logged it)"}, status_code=500)
            count(path, response.status_code, started)
            return response

        return respond

    async def scored(request: Any, started: float, parse: Callable, work: Callable) -> Any:
        server.admit()
        released = False
        try:
            remaining = settings.deadline - (time.perf_counter() - started)
            try:
                raw = await asyncio.wait_for(_read_body(request, settings.max_body_bytes), max(remaining, 0.0))
            except asyncio.TimeoutError:
                raise RequestError(408, f"the body did not arrive within the deadline of {settings.deadline:g}s "
                                        f"(--deadline)") from None

            def job(cutoff: float, cancelled: threading.Event) -> Any:  # parsed only here, in a computing thread
                args = parse(parse_body(raw), settings)
                return work(*args, cutoff, cancelled)

            released = True  # from here on the worker thread releases the slot
            return JSON(await server.compute(request, job, started))
        finally:
            if not released:
                server.release()

    async def get_reward(request: Any, started: float):
        return await scored(request, started, openrlhf_request, server.get_reward)

    async def score(request: Any, started: float):
        return await scored(request, started, score_request, server.score)

    async def health(request: Any, started: float):
        return JSON({"status": "ok"})

    async def metrics(request: Any, started: float):
        body, content_type = server.metrics.render()
        return Response(body, media_type=content_type)

    known = {"/get_reward", "/v1/score", "/health", "/metrics"}

    async def http_error(request: Any, exc: HTTPException):
        count(request.url.path if request.url.path in known else "other", exc.status_code, time.perf_counter())
        return JSON({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any):
        from rewards import warm_up

        warm_up()
        try:
            yield
        finally:
            server.cancel_all()
            server.executor.shutdown(wait=False, cancel_futures=True)

    routes = [
        Route("/get_reward", endpoint("/get_reward", get_reward), methods=["POST"]),
        Route("/v1/score", endpoint("/v1/score", score), methods=["POST"]),
        Route("/health", endpoint("/health", health, needs_token=False), methods=["GET"]),
        Route("/metrics", endpoint("/metrics", metrics), methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error}, lifespan=lifespan)
    app.state.server = server
    return app


def run(settings: Settings) -> int:
    """Serve until SIGINT/SIGTERM; on either, stop accepting, let the requests in flight finish for at most
    ``deadline + shutdown_grace`` seconds, cancel what is left, and return the exit status (0 after SIGTERM,
    130 after SIGINT). ValueError (one line) for bad settings, rewards or a port that cannot be bound, before
    listening. The caller should end the process with that status at once (``rewards serve`` does, with
    ``os._exit``, so no library thread can hold it past the grace)."""
    require_serve_extra()
    settings = settings.checked()
    _configure_logging(settings.log_level)
    connections = _connection_cap(settings)
    app = create_app(settings)
    return asyncio.run(_serve(app, settings, connections))


async def _serve(app: Any, settings: Settings, connections: int) -> int:
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server.embed import Server

    server = Server(app, address=settings.host, port=settings.port, interface=Interfaces.ASGI, http=HTTPModes.http1,
                    websockets=False, backpressure=connections, log_access=settings.access_log,
                    log_level=LogLevels(settings.log_level),
                    http1_settings=HTTP1Settings(header_read_timeout=int(settings.header_timeout * 1000),
                                                 keep_alive=True))
    logging.getLogger("_granian").addFilter(_QuietEmbedded())
    loop = asyncio.get_running_loop()
    stopping: asyncio.Future = loop.create_future()
    for signum, status in ((signal.SIGTERM, 0), (signal.SIGINT, 130)):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread: the caller stops it
            loop.add_signal_handler(signum, lambda s=status: stopping.done() or stopping.set_result(s))
    serving = asyncio.ensure_future(server.serve())
    done, _ = await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if serving in done:  # it stopped by itself: a bind failure or a startup error
        error = serving.exception()
        if error is not None:
            raise ValueError(f"cannot serve on {settings.host}:{settings.port}: {' '.join(str(error).split())}")
        return 1
    grace = settings.deadline + settings.shutdown_grace
    _log.info("rewards serve: stopping; requests in flight get up to %.0f s (deadline + %.0f s grace)", grace,
              settings.shutdown_grace)
    server.stop()
    try:
        await asyncio.wait_for(asyncio.shield(serving), grace)
    except asyncio.TimeoutError:
        _log.warning("rewards serve: requests still running after %.0f s; cancelled", grace)
    app.state.server.cancel_all()
    _log.info("rewards serve: stopped")
    return stopping.result()


class _QuietEmbedded(logging.Filter):
    """granian warns that its embedded server is experimental; we run it in-process on purpose (docs/serve.md)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Embedded server is experimental" not in record.getMessage()


def _configure_logging(level: str) -> None:
    """Our log lines (``rewards.*``) to stderr at ``level``, unless the application configured logging already."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=level.upper(), format="%(levelname)s: %(name)s: %(message)s", stream=sys.stderr)


def _connection_cap(settings: Settings) -> int:
    """``settings.connections``, after raising this process's open-file limit to fit it (plus ``FD_RESERVE``) where
    the hard limit allows; ValueError (one line) where it does not."""
    wanted = settings.connections + FD_RESERVE
    try:
        import resource
    except ImportError:  # not POSIX: nothing to raise
        return settings.connections
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft < wanted:
            raise ValueError(f"max-connections {settings.connections} needs {wanted} open files, but the limit is "
                             f"{soft} (ulimit -n); lower --max-connections (or --max-queue) or raise the limit")
    return settings.connections


def require_serve_extra() -> None:
    """ModuleNotFoundError naming the ``serve`` extra (one line) when Starlette, granian or prometheus_client is missing."""
    for module in ("starlette", "granian", "prometheus_client"):
        try:
            __import__(module)
        except ModuleNotFoundError:
            raise ModuleNotFoundError(f"{SERVE_EXTRA} ({module} is not installed)", name=module) from None


def token_from_env(explicit: str | None) -> str | None:
    """``explicit`` (``--token``) if given, else ``GRPOKIT_TOKEN`` (unset or empty: no token)."""
    return explicit if explicit is not None else (os.environ.get("GRPOKIT_TOKEN") or None)
