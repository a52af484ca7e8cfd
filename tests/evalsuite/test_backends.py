"""Backend pieces without a model: the seeded sampler's distribution, prompt rendering, stop strings,
image placeholders and the model-path check."""

from __future__ import annotations

import pytest

from evalsuite.backends.base import (
    Sampling,
    adapter_base,
    check_model_path,
    cut_at_stop,
    render_chat,
    with_image_placeholders,
)
from evalsuite.errors import EvalError


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _draws(torch, logits, rows, **kw):
    from evalsuite.backends.transformers import SeededSampler, row_seed

    sampling = Sampling(n=1, temperature=kw.pop("temperature", 1.0), **kw)
    sampler = SeededSampler([row_seed(0, i, 0) for i in range(rows)], sampling, "cpu")
    scores = torch.tensor([logits] * rows)
    return sampler(None, scores).argmax(dim=-1)


def test_seeded_sampler_draws_from_the_softmax(torch):
    logits = [0.0, 1.0, 2.0, -1.0]
    draws = _draws(torch, logits, 20_000)
    expected = torch.tensor(logits).softmax(-1)
    observed = torch.bincount(draws, minlength=4).float() / len(draws)
    assert torch.allclose(observed, expected, atol=0.015)


def test_seeded_sampler_temperature_top_k_top_p(torch):
    logits = [0.0, 1.0, 2.0, -1.0]
    low = _draws(torch, logits, 4000, temperature=0.05)
    assert (low == 2).float().mean() > 0.99
    top2 = _draws(torch, logits, 4000, top_k=2)
    assert set(top2.tolist()) == {1, 2}
    # probs ~ [.087, .237, .644, .032]: top_p 0.7 keeps tokens 2 and 1; top_p 0.5 keeps token 2 only
    assert set(_draws(torch, logits, 4000, top_p=0.7).tolist()) == {1, 2}
    assert set(_draws(torch, logits, 4000, top_p=0.5).tolist()) == {2}


def test_seeded_sampler_rows_are_independent_of_batch(torch):
    from evalsuite.backends.transformers import SeededSampler, row_seed

    sampling = Sampling(temperature=1.0)
    scores = torch.randn(3, 50, generator=torch.Generator().manual_seed(1))
    together = SeededSampler([row_seed(0, i, 0) for i in range(3)], sampling, "cpu")(None, scores).argmax(-1)
    alone = SeededSampler([row_seed(0, 2, 0)], sampling, "cpu")(None, scores[2:]).argmax(-1)
    assert together[2] == alone[0]
    rng = torch.random.get_rng_state()
    SeededSampler([1], sampling, "cpu")(None, scores[:1])
    assert torch.equal(rng, torch.random.get_rng_state())


def test_row_seeds_differ():
    from evalsuite.backends.transformers import row_seed

    seeds = {row_seed(s, i, j) for s in range(3) for i in range(50) for j in range(8)}
    assert len(seeds) == 3 * 50 * 8


@pytest.mark.parametrize(
    "text,stop,expected",
    [
        ("abc</answer>def", ("</answer>",), ("abc", True)),
        ("abc", ("x",), ("abc", False)),
        ("a;b\nc", ("\n", ";"), ("a", True)),  # earliest of several
        ("abc", ("",), ("abc", False)),
        ("abc", (), ("abc", False)),
    ],
)
def test_cut_at_stop(text, stop, expected):
    assert cut_at_stop(text, stop) == expected


class _NoTemplate:
    chat_template = None


def test_render_without_chat_template_joins_contents():
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": [{"type": "text", "text": "Q"}]}]
    assert render_chat(_NoTemplate(), messages) == "S\n\nQ"


def test_image_placeholders_go_first_in_the_first_user_turn():
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]
    out = with_image_placeholders(messages, 2)
    assert out[1]["content"] == [{"type": "image"}, {"type": "image"}, {"type": "text", "text": "Q"}]
    assert messages[1]["content"] == "Q"  # input untouched
    already = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Q"}]}]
    assert with_image_placeholders(already, 1) == already


def test_check_model_path(tmp_path):
    check_model_path(str(tmp_path))
    check_model_path("Qwen/Qwen2.5-0.5B-Instruct")  # a hub id is let through
    for bad in (str(tmp_path / "missing"), "./missing", "missing-folder", ""):
        with pytest.raises(EvalError):
            check_model_path(bad)


@pytest.mark.parametrize("files,expected", [
    ({"adapter_config.json": '{"base_model_name_or_path": "/models/base"}'}, "/models/base"),
    ({"adapter_config.json": '{"base_model_name_or_path": "/models/base"}', "config.json": "{}"}, None),  # merged
    ({"config.json": "{}"}, None),
    ({"adapter_config.json": "{}"}, "no base_model_name_or_path"),
    ({"adapter_config.json": "{not json"}, "unreadable adapter config"),
])
def test_an_adapter_folder_names_its_base(tmp_path, files, expected):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    if expected is None or expected.startswith("/"):
        assert adapter_base(str(tmp_path)) == expected
    else:
        with pytest.raises(EvalError, match=expected):
            adapter_base(str(tmp_path))


def test_the_vllm_backend_refuses_an_adapter_folder_in_one_line(tmp_path):
    from evalsuite.backends import load_backend
    from evalsuite.config import EvalConfig

    (tmp_path / "adapter_config.json").write_text('{"base_model_name_or_path": "/models/base"}')
    with pytest.raises(EvalError, match="PEFT adapter folder: the vllm backend needs a merged model"):
        load_backend("vllm", EvalConfig(model=str(tmp_path), data="d.jsonl", backend="vllm"))


def test_unknown_backend_is_refused():
    from evalsuite import EvalConfig

    with pytest.raises(EvalError, match="unknown backend .tgi.; choose one of: transformers, vllm, openai"):
        EvalConfig(model="m", data="d", backend="tgi")


def test_vllm_backend_without_vllm_says_how_to_install(tmp_path, monkeypatch):
    import sys

    from evalsuite.backends import load_backend
    from evalsuite.config import EvalConfig

    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm -> ImportError
    with pytest.raises(EvalError, match=r"the vllm backend needs vLLM: pip install 'grpokit\[vllm\]'"):
        load_backend("vllm", EvalConfig(model=str(tmp_path), data="d", backend="vllm"))


def _fake_replica(conn, config, devices, *, fail=None):
    """A stand-in for a vLLM replica: answers each prompt with its devices and index; the replica on
    CUDA device 1 fails as ``fail`` says (``start``, ``error`` or ``exit``)."""
    import os

    from evalsuite.backends.base import Completion

    broken = devices == "1"
    if broken and fail == "start":
        conn.send("RuntimeError: no CUDA device 1")
        return
    conn.send("ready")
    while (job := conn.recv()) is not None:
        prompts, _sampling = job
        if broken and fail == "exit":
            os._exit(3)
        if broken and fail == "error":
            conn.send("RuntimeError: CUDA error: out of memory")
            continue
        conn.send([[Completion(f"{devices}:{p.index}")] for p in prompts])


def _pool(fail, monkeypatch):
    import functools

    from evalsuite.backends.base import Prompt
    from evalsuite.backends.vllm import ReplicaPool
    from evalsuite.config import EvalConfig

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2")
    config = EvalConfig(model="m", data="d", backend="vllm", data_parallel_size=3)
    pool = ReplicaPool(config, replica_main=functools.partial(_fake_replica, fail=fail), start_method="fork")
    return pool, [Prompt([{"role": "user", "content": "q"}], index=i) for i in range(5)]


def test_replica_pool_splits_batches_in_prompt_order(monkeypatch):
    pool, prompts = _pool(None, monkeypatch)
    try:
        assert [c[0].text for c in pool.generate(prompts, Sampling())] == ["0:0", "0:1", "1:2", "1:3", "2:4"]
    finally:
        pool.close()


@pytest.mark.parametrize(
    "fail,message",
    [
        ("error", "vLLM replica 1 of 3 (CUDA devices 1) failed: RuntimeError: CUDA error: out of memory; "
                  "every replica was shut down (finished batches are saved: rerun to resume)"),
        ("exit", "vLLM replica 1 of 3 (CUDA devices 1) failed: its process exited (exit code 3); "
                 "every replica was shut down (finished batches are saved: rerun to resume)"),
    ],
)
def test_a_failing_replica_is_one_error_and_every_replica_stops(monkeypatch, fail, message):
    pool, prompts = _pool(fail, monkeypatch)
    processes = [proc for proc, _, _ in pool.workers]
    with pytest.raises(EvalError) as err:
        pool.generate(prompts, Sampling())
    assert str(err.value) == message
    assert pool.workers == [] and not any(proc.is_alive() for proc in processes)
    pool.close()  # closing again (as the runner's finally does) is harmless


def test_a_replica_that_cannot_start_stops_the_others(monkeypatch):
    from evalsuite.backends.vllm import ReplicaPool

    stopped = []
    real_close = ReplicaPool.close

    def recording_close(self):
        stopped.extend(proc for proc, _, _ in self.workers)
        real_close(self)

    monkeypatch.setattr(ReplicaPool, "close", recording_close)
    with pytest.raises(EvalError) as err:
        _pool("start", monkeypatch)
    assert str(err.value) == ("vLLM replica 1 of 3 (CUDA devices 1) failed to start: RuntimeError: no CUDA device 1; "
                              "every replica was shut down")
    assert len(stopped) == 3 and not any(proc.is_alive() for proc in stopped)
