"""The ``rewards`` console script: ``rewards serve ...`` parses its flags and starts the reward server.
It must never hold logic (``rewards.serve`` checks the settings) and never fail with more than one line."""

from __future__ import annotations

import argparse
import sys

from rewards.adapters.reward_set import load_params


def parser() -> argparse.ArgumentParser:
    """The ``rewards`` argument parser."""
    top = argparse.ArgumentParser(prog="rewards", description="grpokit rewards: tools around the reward library.")
    commands = top.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="serve rewards over HTTP (OpenRLHF's /get_reward and /v1/score)",
        description="Serve rewards over HTTP: POST /get_reward (OpenRLHF), POST /v1/score, GET /health, GET /metrics.",
    )
    serve.add_argument("--rewards", default="accuracy", help="'name[:weight],...', e.g. accuracy,format:0.5")
    serve.add_argument("--params", default=None, help='JSON {reward: {param: value}}, e.g. \'{"cosine": {"max_len": 512}}\'')
    serve.add_argument("--score", default=None, dest="score_reward",
                       help="reward whose value (clamped to [0, 1]) is the score; default accuracy when in the set")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; others need a token)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--token", default=None, help="bearer token clients must send (default: $GRPOKIT_TOKEN)")
    serve.add_argument("--max-body-bytes", type=int, default=4 * 2**20)
    serve.add_argument("--max-batch", type=int, default=4096, help="most samples in one request")
    serve.add_argument("--max-concurrency", type=int, default=4, help="requests computing at once (worker threads)")
    serve.add_argument("--max-queue", type=int, default=512, help="requests waiting for a worker; more get 429")
    serve.add_argument("--deadline", type=float, default=120.0,
                       help="seconds from arrival to answer (body, waiting and computing); then 408 or 504")
    serve.add_argument("--header-timeout", type=float, default=10.0,
                       help="seconds a connection has to send a request's headers, after opening or an answer")
    serve.add_argument("--max-connections", type=int, default=None,
                       help="open connections at most (default: max-concurrency + max-queue + 32)")
    serve.add_argument("--shutdown-grace", type=float, default=5.0,
                       help="on SIGTERM, seconds beyond --deadline that requests in flight may take")
    serve.add_argument("--tokenizer", default=None,
                       help="the policy's tokenizer (folder or hub name): its chat template locates responses in "
                            "/get_reward queries when the prompt is not found")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.add_argument("--access-log", action="store_true", help="log every request")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        from rewards import serve

        settings = serve.Settings(
            rewards=args.rewards, params=load_params(args.params, "--params") if args.params else None,
            score_reward=args.score_reward, host=args.host, port=args.port, token=serve.token_from_env(args.token),
            max_body_bytes=args.max_body_bytes, max_batch=args.max_batch, max_concurrency=args.max_concurrency,
            max_queue=args.max_queue, deadline=args.deadline, header_timeout=args.header_timeout,
            max_connections=args.max_connections, shutdown_grace=args.shutdown_grace, tokenizer=args.tokenizer,
            log_level=args.log_level, access_log=args.access_log,
        )
        status = serve.run(settings)
    except (ValueError, ModuleNotFoundError) as err:
        print(f"rewards {args.command}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    _exit_now(status)
    return status


def _exit_now(status: int) -> None:
    """End the process at once, once the server has stopped: verify's workers closed and logs flushed first, but
    no waiting for threads (a reward still running past the grace) or the HTTP server's own runtime."""
    import logging
    import os

    from rewards.answers import pool

    pool.restart()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(status)


if __name__ == "__main__":
    sys.exit(main())
