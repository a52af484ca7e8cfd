"""Backend pieces without a model: the seeded sampler's distribution, prompt rendering, stop strings,
image placeholders and the model-path check."""

from __future__ import annotations

import pytest

from evalsuite.backends.base import (
    Sampling,
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


def test_unknown_backend_is_refused():
    from evalsuite import EvalConfig

    with pytest.raises(EvalError, match="unknown backend 'tgi'; choose transformers or vllm"):
        EvalConfig(model="m", data="d", backend="tgi")


def test_vllm_backend_without_vllm_says_how_to_install(tmp_path, monkeypatch):
    import sys

    from evalsuite.backends import load_backend
    from evalsuite.config import EvalConfig

    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm -> ImportError
    with pytest.raises(EvalError, match=r"the vllm backend needs vLLM: pip install 'grpokit\[vllm\]'"):
        load_backend("vllm", EvalConfig(model=str(tmp_path), data="d", backend="vllm"))
