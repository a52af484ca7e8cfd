"""An OpenAI-compatible server for the openai backend's tests (Starlette on granian, run as a subprocess) that fails on
purpose: 429s with Retry-After, 5xx, dropped connections, ignored n, a refused seed, a required key, held requests.
It must never be taken for a model: it answers arithmetic prompts with made-up text that depends only on the prompt and
the seed, so the tests can tell which request produced which sample.

    python tests/evalsuite/unreliable_openai_server.py --port 8123 --config behaviour.json

``behaviour.json`` (every key optional):
    models        ["tiny-served"]   the model names GET /v1/models lists; other names get a 404
    api_key       null              the bearer token every request must carry (a wrong one gets a 401 that echoes it)
    faults        {}                {"text in the prompt": ["429", "500", "drop", "400", "ok", ...]}: what successive
                                    requests whose prompt holds that text get; past the list "ok", unless its last
                                    entry ends in "*" ("500*": every further request too)
    retry_after   "0"               the Retry-After header of a 429
    reject_seed   false             a request with "seed" gets OpenAI's 400 for an unknown argument
    ignore_n      false             one choice whatever n asks
    no_logprobs   false             never send logprobs
    hold          0                 the first `hold` requests are answered only once `hold` are in flight (or 20 s)
    delays        {}                {"text in the prompt": seconds} before answering

``GET /_log`` returns what was asked: ``{"requests": [{"path", "body", "authorization", "time", "outcome"}],
"max_in_flight", "hold_released"}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


class Dropped(Response):
    """A reply cut off mid-body: headers promise 1000 bytes, 6 arrive, then the connection closes."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")]})
        await send({"type": "http.response.body", "body": b'{"choi', "more_body": True})
        raise ConnectionAbortedError("connection dropped on purpose")


def answer(question: str, temperature: float, seed: int | None, rng: random.Random) -> str:
    """Greedy: the right sum. Sampled: a guess off by -1, 0 or +1, decided by the seed (or by chance without one)."""
    total = sum(int(x) for x in re.findall(r"\d+", question))
    if temperature <= 0:
        return f"The sum is \\boxed{{{total}}}"
    draw = rng.randrange(10**6) if seed is None else seed
    return f"Draw {draw} says the sum is \\boxed{{{total + draw % 3 - 1}}}"


def create_app(behaviour: dict) -> Starlette:
    models = behaviour.get("models", ["tiny-served"])
    faults = {text: list(plan) for text, plan in behaviour.get("faults", {}).items()}
    state = {"requests": [], "in_flight": 0, "max_in_flight": 0, "hold_released": None, "seen": {}}
    released = asyncio.Event()
    rng = random.Random()

    async def list_models(request: Request) -> Response:
        if (refused := _unauthorized(request, behaviour)) is not None:
            return refused
        return JSONResponse({"object": "list", "data": [{"id": m, "object": "model", "owned_by": "tests"} for m in models]})

    async def show_log(request: Request) -> Response:
        return JSONResponse({k: state[k] for k in ("requests", "max_in_flight", "hold_released")})

    async def complete(request: Request) -> Response:
        chat = request.url.path.endswith("/chat/completions")
        body = await request.json()
        question = _question(body, chat)
        entry = {"path": request.url.path, "body": body, "authorization": request.headers.get("authorization"),
                 "time": time.time(), "outcome": "ok"}
        state["requests"].append(entry)
        state["in_flight"] += 1
        state["max_in_flight"] = max(state["max_in_flight"], state["in_flight"])
        try:
            await _hold(behaviour.get("hold", 0), state, released)
            await asyncio.sleep(max((s for t, s in behaviour.get("delays", {}).items() if t in question), default=0))
            entry["outcome"] = outcome = _next_fault(faults, state["seen"], question)
            if (refused := _unauthorized(request, behaviour)) is not None:
                entry["outcome"] = "401"
                return refused
            if outcome == "drop":
                return Dropped()
            if outcome == "429":
                return _error(429, "Rate limit reached (on purpose)", {"Retry-After": str(behaviour.get("retry_after", "0"))})
            if outcome in ("400", "500", "502", "503", "408"):
                return _error(int(outcome), f"HTTP {outcome} (on purpose)")
            if body.get("model") not in models:
                return _error(404, f"The model `{body.get('model')}` does not exist.")
            if behaviour.get("reject_seed") and "seed" in body:
                return _error(400, "Unrecognized request argument supplied: seed")
            return JSONResponse(_reply(body, question, chat, behaviour, rng))
        finally:
            state["in_flight"] -= 1

    return Starlette(routes=[
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/chat/completions", complete, methods=["POST"]),
        Route("/v1/completions", complete, methods=["POST"]),
        Route("/_log", show_log, methods=["GET"]),
    ])


def _reply(body: dict, question: str, chat: bool, behaviour: dict, rng: random.Random) -> dict:
    n = 1 if behaviour.get("ignore_n") else int(body.get("n", 1))
    seed = body.get("seed")
    choices, used = [], 0
    for i in range(n):
        words = answer(question, float(body.get("temperature", 1.0)), None if seed is None else seed + i, rng).split()
        text, reason = " ".join(words), "stop"
        for stop in body.get("stop") or []:
            if stop in text:
                text = text[: text.index(stop)]
        words = text.split()
        if len(words) > int(body.get("max_tokens", 16)):
            words, reason = words[: int(body["max_tokens"])], "length"
            text = " ".join(words)
        used += len(words)
        choice = {"index": i, "finish_reason": reason, "logprobs": None}
        if chat:
            choice["message"] = {"role": "assistant", "content": text}
        else:
            choice["text"] = text
        if body.get("logprobs") not in (None, False) and not behaviour.get("no_logprobs"):
            choice["logprobs"] = ({"content": [{"token": w, "logprob": -1.0, "bytes": None, "top_logprobs": []}
                                               for w in words]} if chat else
                                  {"tokens": words, "token_logprobs": [-1.0] * len(words)})
        choices.append(choice)
    prompt_tokens = len(question.split())
    return {"id": "cmpl-test", "object": "chat.completion" if chat else "text_completion", "created": int(time.time()),
            "model": body.get("model"), "choices": choices,
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": used, "total_tokens": prompt_tokens + used}}


def _question(body: dict, chat: bool) -> str:
    if not chat:
        return str(body.get("prompt", ""))
    content = body.get("messages", [{}])[-1].get("content", "")
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if p.get("type") == "text")
    return str(content)


def _next_fault(faults: dict, seen: dict, question: str) -> str:
    for text, plan in faults.items():
        if text in question:
            i = seen.get(text, 0)
            seen[text] = i + 1
            step = plan[i] if i < len(plan) else (plan[-1] if plan and plan[-1].endswith("*") else "ok")
            return step.rstrip("*")
    return "ok"


async def _hold(hold: int, state: dict, released: asyncio.Event) -> None:
    if not hold or state["hold_released"] is not None:
        return
    if state["in_flight"] >= hold:
        state["hold_released"] = True
        released.set()
        return
    try:
        await asyncio.wait_for(released.wait(), 20)
    except asyncio.TimeoutError:
        state["hold_released"] = False


def _unauthorized(request: Request, behaviour: dict) -> Response | None:
    key = behaviour.get("api_key")
    given = request.headers.get("authorization", "")
    if key is None or given == f"Bearer {key}":
        return None
    return _error(401, f"Incorrect API key provided: {given.removeprefix('Bearer ')}.")


def _error(status: int, message: str, headers: dict | None = None) -> Response:
    return JSONResponse({"error": {"message": message, "type": "test_error", "code": status}}, status_code=status,
                        headers=headers)


async def _serve(app: Starlette, port: int) -> None:
    from granian.constants import HTTPModes, Interfaces
    from granian.server.embed import Server

    await Server(app, address="127.0.0.1", port=port, interface=Interfaces.ASGI, http=HTTPModes.http1,
                 websockets=False, log_access=False).serve()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--config", default=None)
    args = parser.parse_args()
    settings = json.loads(Path(args.config).read_text()) if args.config else {}
    asyncio.run(_serve(create_app(settings), args.port))
