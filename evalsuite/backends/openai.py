"""Generates completions with a model behind an OpenAI-compatible server (vLLM, SGLang, TGI, hosted APIs) over HTTP.
It must never save or log the API key, and never retry without end: a request that keeps failing is one error naming its prompt."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import email.utils
import io
import logging
import os
import random
import time
from collections import Counter
from datetime import timezone
from typing import Any

import httpx

from evalsuite.backends.base import (
    Completion,
    Prompt,
    Sampling,
    _is_image,
    as_pil,
    plain_prompt,
    with_image_placeholders,
)
from evalsuite.errors import EvalError

log = logging.getLogger(__name__)

RETRIED_STATUS = frozenset({408, 429})  # and every 5xx; any other 4xx is the request's fault and is not retried
BACKOFF_FIRST_S = 0.5  # the wait before the first retry when the server names none; doubled per retry
BACKOFF_MAX_S = 30.0
RETRY_AFTER_MAX_S = 120.0  # a longer Retry-After is cut to this


@dataclasses.dataclass(frozen=True)
class _Job:
    """One request: ``count`` samples of a prompt (from its sample ``first``), seeded with ``seed`` or not."""

    first: int
    count: int
    seed: int | None


class _Refused(Exception):
    """The server refused a request with a status retrying cannot change (a 4xx other than 408 and 429)."""

    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class OpenAIBackend:
    """One served model. ``generate`` sends a batch's requests, ``concurrency`` in flight, and returns the
    samples in prompt order.

    - Greedy prompts: one request (``n=1``), its completion copied n times, as the other backends do.
    - Sampled prompts: one request per sample, ``seed`` = run seed + prompt index + sample number: the vllm
      backend's seeds, so a vLLM server draws what the vllm backend draws, and a grown n draws exactly the
      samples a larger run would have drawn.
    - A server that refuses ``seed`` (a 4xx naming it): from then on the n samples of a prompt go in one
      request, unseeded, with ``logprobs`` asked for to count each choice's tokens; a server that ignores
      ``n`` (fewer choices back) or sends no logprobs: one unseeded request per sample.

    Token counts come from ``usage.completion_tokens`` (the server's tokenizer), truncation from
    ``finish_reason == "length"``; the server shows no token ids, so the records carry none."""

    name = "openai"

    def __init__(self, *, base_url: str, model: str, api_key: str | None = None, key_env: str = "OPENAI_API_KEY",
                 endpoint: str = "chat", concurrency: int = 16, timeout: float = 600.0, max_retries: int = 6):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key
        self.key_env = key_env
        self.endpoint = endpoint
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.seeded = True  # the server takes `seed`
        self.n_per_request = True  # the server honours `n` and `logprobs` (used only once seeds are refused)
        self.counts: Counter[str] = Counter()  # requests, retries and why, read by close()
        self._random = random.Random()  # retry jitter only

    @classmethod
    def create(cls, config: Any, *, model: Any = None) -> OpenAIBackend:
        """A backend for ``config`` (``--base-url``, ``--model NAME``, the key from ``--api-key-env``) whose
        server was asked which models it serves."""
        if model is not None:
            raise EvalError("the openai backend generates on a server and takes no model object; give --model NAME "
                            "and --base-url")
        api_key = os.environ.get(config.api_key_env) or None
        if api_key is None:
            log.warning("%s is not set: requests carry no API key (fine for a local server started without one)",
                        config.api_key_env)
        backend = cls(base_url=config.base_url, model=config.model, api_key=api_key, key_env=config.api_key_env,
                      endpoint=config.endpoint, concurrency=config.concurrency, timeout=config.request_timeout,
                      max_retries=config.max_retries)
        backend.check_model()
        return backend

    def check_model(self) -> None:
        """Refuse a server that cannot be reached, and a model it does not serve (``GET /models``)."""
        served = _run(self._served_models())
        if self.model not in served:
            raise EvalError(f"the server at {self.base_url} does not serve {self.model!r} (--model); it serves: "
                            f"{', '.join(served) or 'no model'}")

    def generate(self, prompts: list[Prompt], sampling: Sampling) -> list[list[Completion]]:
        if not prompts:
            return []
        try:
            return _run(self._generate(prompts, sampling))
        except EvalError as err:
            raise EvalError(f"{err}; finished batches are saved: rerun to resume") from None

    def close(self) -> None:
        if self.counts["retries"]:
            log.warning("openai backend: %d requests, %d retries (%d throttled, %d server errors, %d connection "
                        "errors)", self.counts["requests"], self.counts["retries"], self.counts["throttled"],
                        self.counts["server errors"], self.counts["connection errors"])

    def _client(self) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        return httpx.AsyncClient(base_url=self.base_url + "/", headers=headers, timeout=self.timeout, limits=limits)

    async def _served_models(self) -> list[str]:
        async with self._client() as client:
            try:
                reply = await self._send(client, "GET", "models", None, "the model list", retry_connect=False)
            except _Refused as err:
                raise self._refusal(f"{self.base_url}/models", err) from None
        data = reply.get("data") if isinstance(reply, dict) else None
        if not isinstance(data, list):
            raise EvalError(f"{self.base_url}/models: not an OpenAI model list (no 'data' list)")
        return [str(m.get("id")) for m in data if isinstance(m, dict)]

    async def _generate(self, prompts: list[Prompt], sampling: Sampling) -> list[list[Completion]]:
        slots = asyncio.Semaphore(self.concurrency)
        async with self._client() as client:
            tasks = [asyncio.ensure_future(self._prompt_samples(client, slots, p, sampling)) for p in prompts]
            try:
                return list(await asyncio.gather(*tasks))
            except BaseException:  # one prompt failed: stop the others' requests before the error goes up
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise

    async def _prompt_samples(self, client: httpx.AsyncClient, slots: asyncio.Semaphore, prompt: Prompt,
                              sampling: Sampling) -> list[Completion]:
        groups = await asyncio.gather(*(self._draw(client, slots, prompt, job, sampling)
                                        for job in self._jobs(prompt, sampling)))
        samples = [c for group in groups for c in group]
        if sampling.greedy:
            samples = [dataclasses.replace(samples[0]) for _ in range(sampling.n)]
        return samples

    def _jobs(self, prompt: Prompt, sampling: Sampling) -> list[_Job]:
        """The requests that draw a prompt's samples (see the class docstring)."""
        if sampling.greedy:
            return [_Job(0, 1, None)]
        if self.seeded:
            first_seed = sampling.seed + prompt.index + prompt.first_sample
            return [_Job(j, 1, first_seed + j) for j in range(sampling.n)]
        if self.n_per_request and sampling.n > 1:
            return [_Job(0, sampling.n, None)]
        return [_Job(j, 1, None) for j in range(sampling.n)]

    async def _draw(self, client: httpx.AsyncClient, slots: asyncio.Semaphore, prompt: Prompt, job: _Job,
                    sampling: Sampling) -> list[Completion]:
        what = prompt_name(prompt) + (f", sample {prompt.first_sample + job.first}" if job.seed is not None else "")
        body = self._body(prompt, sampling, job)
        try:
            async with slots:
                reply = await self._send(client, "POST", self._path, body, what)
        except _Refused as err:
            if job.seed is not None and "seed" in err.message.lower():
                self._stop_seeding(err)
                return await self._draw(client, slots, prompt, dataclasses.replace(job, seed=None), sampling)
            raise self._refusal(what, err) from None
        samples = self._samples(reply, job, what)
        if samples is None:  # n or logprobs not honoured: one request per sample
            singles = [_Job(job.first + i, 1, None) for i in range(job.count)]
            groups = await asyncio.gather(*(self._draw(client, slots, prompt, s, sampling) for s in singles))
            samples = [c for group in groups for c in group]
        return samples

    @property
    def _path(self) -> str:
        return "chat/completions" if self.endpoint == "chat" else "completions"

    def _body(self, prompt: Prompt, sampling: Sampling, job: _Job) -> dict:
        """The request body of one job. ``top_k`` is no OpenAI parameter: it is sent (as vLLM, SGLang and TGI
        take it) only when set."""
        body: dict[str, Any] = {"model": self.model}
        if self.endpoint == "chat":
            body["messages"] = chat_messages(prompt)
        elif prompt.images:
            raise EvalError(f"{prompt_name(prompt)} has images, which the completions endpoint cannot take; "
                            "use --endpoint chat")
        else:
            body["prompt"] = plain_prompt(prompt.messages)
        body.update(max_tokens=sampling.max_tokens, temperature=sampling.temperature, top_p=sampling.top_p,
                    n=job.count)
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        if job.seed is not None:
            body["seed"] = job.seed
        if sampling.top_k_or_none and not sampling.greedy:
            body["top_k"] = sampling.top_k_or_none
        if job.count > 1:  # usage counts the tokens of all choices together: count each one's from its logprobs
            body["logprobs"] = True if self.endpoint == "chat" else 0
        return body

    def _samples(self, reply: Any, job: _Job, what: str) -> list[Completion] | None:
        """The job's completions from the server's reply; None when a request for several samples got fewer
        choices, or choices without the logprobs that count their tokens."""
        choices = reply.get("choices") if isinstance(reply, dict) else None
        if not isinstance(choices, list) or not choices or not all(isinstance(c, dict) for c in choices):
            raise EvalError(f"{what}: the server's reply has no choices")
        choices = sorted(choices, key=lambda c: c.get("index") or 0)
        if job.count == 1:
            tokens = (reply.get("usage") or {}).get("completion_tokens")
            if not isinstance(tokens, int):
                raise EvalError(f"{what}: the server's reply has no usage.completion_tokens (lengths and truncation "
                                "rates need it)")
            return [self._completion(choices[0], tokens)]
        counts = [_logprob_count(c, self.endpoint) for c in choices]
        if len(choices) < job.count or None in counts:
            if self.n_per_request:
                self.n_per_request = False
                log.warning("the server answered a request for %d samples with %d choice(s)%s: one request per "
                            "sample from now on", job.count, len(choices),
                            "" if None not in counts else " without logprobs to count their tokens")
            return None
        return [self._completion(c, tokens) for c, tokens in zip(choices, counts, strict=False)][: job.count]

    def _completion(self, choice: dict, tokens: int) -> Completion:
        if self.endpoint == "chat":
            text = (choice.get("message") or {}).get("content") or ""
        else:
            text = choice.get("text") or ""
        reason = "length" if choice.get("finish_reason") == "length" else "stop"
        return Completion(text, None, reason, token_count=tokens)

    async def _send(self, client: httpx.AsyncClient, method: str, path: str, body: dict | None, what: str, *,
                    retry_connect: bool = True) -> Any:
        """The JSON reply to one request. 429, 408, 5xx and connection errors are retried up to
        ``max_retries`` times, after the server's Retry-After or else an exponential backoff with jitter
        (:func:`backoff_delay`); any other 4xx raises _Refused at once. Only the first attempt's connection
        error is final when ``retry_connect`` is False (the start-up check: a wrong URL fails at once)."""
        for attempt in range(self.max_retries + 1):
            self.counts["requests"] += 1
            retry_after = None
            try:
                response = await client.request(method, path, json=body)
            except httpx.TransportError as err:
                if not retry_connect and isinstance(err, httpx.ConnectError):
                    raise EvalError(f"cannot reach the server at {self.base_url} ({_describe(err)}); is it running, "
                                    "and is --base-url right?") from None
                problem, kind = _describe(err), "connection errors"
            else:
                if response.is_success:
                    try:
                        return response.json()
                    except ValueError:
                        raise EvalError(f"{what}: the server's reply is not JSON: {response.text[:100]!r}") from None
                message = self._message(response)
                if response.status_code not in RETRIED_STATUS and response.status_code < 500:
                    raise _Refused(response.status_code, message)
                problem = f"HTTP {response.status_code}: {message}"
                kind = "throttled" if response.status_code == 429 else "server errors"
                retry_after = retry_after_seconds(response.headers.get("retry-after"))
            if attempt == self.max_retries:
                break
            delay = backoff_delay(attempt, retry_after, self._random)
            self.counts["retries"] += 1
            self.counts[kind] += 1
            log.warning("%s: %s; retry %d of %d in %.1f s", what, problem, attempt + 1, self.max_retries, delay)
            await asyncio.sleep(delay)
        raise EvalError(f"{what}: the server at {self.base_url} failed {self.max_retries + 1} attempts "
                        f"(--max-retries {self.max_retries}), the last with {problem}")

    def _message(self, response: httpx.Response) -> str:
        """The server's error message (OpenAI's ``{"error": {"message": ...}}`` and the usual variants), one
        line, with the API key masked should the server echo it."""
        try:
            data = response.json()
        except ValueError:
            data = None
        message = None
        if isinstance(data, dict):
            error = data.get("error")
            message = error.get("message") if isinstance(error, dict) else error
            message = message or data.get("message") or data.get("detail")
        text = " ".join(str(message or response.text or response.reason_phrase).split())[:300]
        return text.replace(self._api_key, "***") if self._api_key else text

    def _refusal(self, what: str, err: _Refused) -> EvalError:
        hint = ""
        if err.status in (401, 403):
            hint = (f"; set {self.key_env} to the server's key" if self._api_key is None else
                    f"; check the key in {self.key_env}") + " (--api-key-env VAR reads another variable)"
        elif err.status == 404 and not self.base_url.endswith("/v1"):
            hint = "; an OpenAI-compatible API root usually ends in /v1"
        return EvalError(f"{what}: the server at {self.base_url} refused the request ({err}){hint}")

    def _stop_seeding(self, err: _Refused) -> None:
        if self.seeded:
            self.seeded = False
            log.warning("the server refuses `seed` (%s): samples are drawn unseeded from now on, so a rerun or a "
                        "grown n does not reproduce them", err)


def prompt_name(prompt: Prompt) -> str:
    """How errors name a prompt: ``prompt id 'q7' (row 8)``."""
    named = f"prompt id {prompt.id!r}" if prompt.id is not None else "prompt"
    return f"{named} (row {prompt.index + 1})"


def chat_messages(prompt: Prompt) -> list[dict]:
    """The prompt's messages as the chat endpoint takes them: each image entry (``{"type": "image"}``, placed
    as TRL places them) becomes an ``image_url`` part holding the image as a base64 PNG ``data:`` URL.

    >>> chat_messages(Prompt([{"role": "user", "content": "1+1?"}]))
    [{'role': 'user', 'content': '1+1?'}]
    """
    if not prompt.images:
        return prompt.messages
    images = iter(prompt.images)
    messages = []
    for message in with_image_placeholders(prompt.messages, len(prompt.images)):
        content = message["content"]
        if isinstance(content, list):
            content = [_image_part(next(images, None), prompt) if _is_image(p) else p for p in content]
        messages.append({**message, "content": content})
    if next(images, None) is not None:
        raise EvalError(f"{prompt_name(prompt)}: {len(prompt.images)} images but fewer image entries in its messages")
    return messages


def image_data_url(image: Any) -> str:
    """An image (a path, PIL image or ``{"bytes": ...}``) as a PNG ``data:`` URL of the RGB pixels the local
    backends read."""
    import base64

    buffer = io.BytesIO()
    as_pil(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """The wait a ``Retry-After`` header asks for, in seconds (it holds seconds or an HTTP date); None when
    it is absent or unreadable.

    >>> retry_after_seconds("3")
    3.0
    >>> retry_after_seconds("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0)
    30.0
    """
    if not value or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(attempt: int, retry_after: float | None, rng: random.Random) -> float:
    """The wait before retry ``attempt + 1``: the server's Retry-After (at most RETRY_AFTER_MAX_S), else
    BACKOFF_FIRST_S doubled per attempt up to BACKOFF_MAX_S, times a random factor in [0.5, 1] so clients
    throttled together do not come back together.

    >>> backoff_delay(0, 7.0, random.Random(0)), backoff_delay(3, 900.0, random.Random(0))
    (7.0, 120.0)
    >>> 2.0 <= backoff_delay(3, None, random.Random(0)) <= 4.0
    True
    """
    if retry_after is not None:
        return min(retry_after, RETRY_AFTER_MAX_S)
    return min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2**attempt) * rng.uniform(0.5, 1.0)


def _image_part(image: Any, prompt: Prompt) -> dict:
    if image is None:
        raise EvalError(f"{prompt_name(prompt)}: more image entries in its messages than images ({len(prompt.images)})")
    return {"type": "image_url", "image_url": {"url": image_data_url(image)}}


def _logprob_count(choice: dict, endpoint: str) -> int | None:
    logprobs = choice.get("logprobs")
    tokens = (logprobs or {}).get("content" if endpoint == "chat" else "tokens") if isinstance(logprobs, dict) else None
    return len(tokens) if isinstance(tokens, list) else None


def _describe(err: httpx.TransportError) -> str:
    detail = " ".join(str(err).split())
    return f"{type(err).__name__}: {detail}" if detail else type(err).__name__


def _run(coroutine: Any) -> Any:
    """Run ``coroutine`` to its end from synchronous code, in a worker thread where this thread already runs
    an event loop (a notebook, an async trainer)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
