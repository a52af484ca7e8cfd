"""Runs lighteval's own command line (`lighteval accelerate ...`, argv as given) on a machine without internet, for
bench/peers.py; it runs inside .venv-lighteval and must never change what lighteval loads, generates or scores.

lighteval 0.13 imports every built-in task module at start-up, whatever task is asked for, and two of them reach
the network while being imported: tiny_benchmarks downloads its weights file from GitHub, and mt_bench asks the Hub
whether its judge model exists (with a keyword huggingface_hub >= 1.0 no longer takes). Offline either one stops
the command before it loads a model. This script answers those two calls at once (the file is "not available",
the judge "exists") and leaves every other import, and all of lighteval's work, as it is: the start-up measured
is lighteval's, less the round trips."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import huggingface_hub
import requests

_requests_get = requests.get


def _get(url, *args, **kwargs):
    if "tinyBenchmarks" in str(url):
        return SimpleNamespace(status_code=503, content=b"")
    return _requests_get(url, *args, **kwargs)


def _list_models(self, *args, **kwargs):
    return [SimpleNamespace(id=kwargs.get("model_name") or kwargs.get("search"))]


requests.get = _get
huggingface_hub.HfApi.list_models = _list_models

if __name__ == "__main__":
    from lighteval.__main__ import app

    sys.argv[0] = "lighteval"
    sys.exit(app())
