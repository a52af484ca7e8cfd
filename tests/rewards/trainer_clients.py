"""Drives our verl, ms-swift and OpenRLHF adapters (and the reward server) through those trainers' own reward-loading
and reward-calling code, in a virtual environment that has the trainer (CPU only), and prints what the trainer
computed as one JSON object on a line starting with RESULT:

    make trainer-envs          # builds them under $GRPOKIT_TRAINER_ENVS (default ~/.cache/grpokit/trainer-envs)
    E=$(python3 tests/rewards/trainer_envs.py where)
    PYTHONPATH=$PWD $E/verl/bin/python tests/rewards/trainer_clients.py verl
    PYTHONPATH=$PWD $E/verl/bin/python tests/rewards/trainer_clients.py openrlhf          # the python-file form
    PYTHONPATH=$PWD $E/verl/bin/python tests/rewards/trainer_clients.py openrlhf URL      # a running server
    PYTHONPATH=$PWD $E/swift/bin/python tests/rewards/trainer_clients.py swift

tests/rewards/test_adapters_rewards.py and test_serve_rewards.py run it and check the numbers. Without the
environments those tests skip, unless ``GRPOKIT_REQUIRE_TRAINERS=1`` (CI sets it), which makes them fail.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from trainer_envs import python_of  # noqa: E402,F401  (re-exported for the tests)


def has_package(python: Path, package: str) -> bool:
    """Does the environment of ``python`` hold ``package``?"""
    return python.exists() and any(python.parents[1].glob(f"lib/python3*/site-packages/{package}/__init__.py"))


def needs_trainer(python: Path, package: str):
    """Skip the test without ``package`` in the environment of ``python``, unless ``GRPOKIT_REQUIRE_TRAINERS=1``
    (CI), which runs it so that it fails saying how to build the environment."""
    import pytest

    required = os.environ.get("GRPOKIT_REQUIRE_TRAINERS") == "1"
    present = has_package(python, package)
    if present:
        return lambda test: test
    if required:
        def fail(test):
            def run(*args, **kwargs):
                raise AssertionError(f"no {package} in the environment of {python}: build it with "
                                     f"`make trainer-envs` (GRPOKIT_REQUIRE_TRAINERS=1 requires it)")
            run.__name__, run.__doc__ = test.__name__, test.__doc__
            return run
        return fail
    return pytest.mark.skip(reason=f"no {package} in the environment of {python} (make trainer-envs builds it)")
# (response, gold): formatted and right, unformatted and wrong, boxed and right, no gold (the sample gets 0).
SAMPLES = [
    ("<think>2+2</think><answer>4</answer>", "4"),
    ("<answer>5</answer>", "4"),
    ("So the answer is \\boxed{46}.", "46"),
    ("<think>a</think><answer>7</answer>", ""),
]
PROMPT = "<|im_start|>user\nSolve it.<|im_end|>\n<|im_start|>assistant\n"


def verl(workdir: Path) -> dict:
    """verl's reward loop (``RewardLoopWorker`` with the ``naive`` reward manager, built by verl's
    ``load_reward_manager`` from ``reward.custom_reward_function.path=pkg://rewards.adapters.verl``) and its
    legacy ``NaiveRewardManager`` (loading the adapter by file path), with ``reward_kwargs`` as OmegaConf holds them."""
    import numpy as np
    import torch
    from omegaconf import OmegaConf
    from verl import DataProto
    from verl.experimental.reward_loop.reward_loop import RewardLoopWorker
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.workers.reward_manager import NaiveRewardManager

    from fixtures.tiny import build_tokenizer

    tokenizer = build_tokenizer()
    tokenizer.save_pretrained(workdir / "tokenizer")
    reward_kwargs = {"rewards": {"accuracy": 1.0, "format": 0.5}, "params": {"format": {"tags": ["think", "answer"]}}}
    config = OmegaConf.create({
        "actor_rollout_ref": {"model": {"path": str(workdir / "tokenizer"), "tokenizer_path": None}},
        "reward": {
            "reward_model": {"enable": False},
            "custom_reward_function": {"path": "pkg://rewards.adapters.verl", "name": "compute_score",
                                       "reward_kwargs": reward_kwargs},
            "reward_manager": {"source": "register", "name": "naive"},
        },
    })
    prompt_ids = tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    responses = [tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id] for text, _ in SAMPLES]
    width = max(len(r) for r in responses)
    pad = tokenizer.pad_token_id
    data = DataProto.from_dict(
        tensors={
            "prompts": torch.tensor([prompt_ids] * len(SAMPLES)),
            "responses": torch.tensor([r + [pad] * (width - len(r)) for r in responses]),
            "attention_mask": torch.tensor([[1] * len(prompt_ids) + [1] * len(r) + [0] * (width - len(r))
                                            for r in responses]),
        },
        non_tensors={
            "data_source": np.array(["openai/gsm8k"] * len(SAMPLES), dtype=object),
            "reward_model": np.array([{"ground_truth": gold, "style": "rule"} for _, gold in SAMPLES], dtype=object),
            "extra_info": np.array([{"index": i, "split": "train"} for i in range(len(SAMPLES))], dtype=object),
        },
    )
    worker = RewardLoopWorker(config)
    loop_outputs = worker.loop.run_until_complete(worker.compute_score_batch(data))
    config.reward.custom_reward_function.path = str(ROOT / "rewards/adapters/verl.py")  # the file form
    legacy = NaiveRewardManager(tokenizer, num_examine=0, compute_score=get_custom_reward_fn(config))(data, return_dict=True)
    valid = data.batch["attention_mask"][:, len(prompt_ids):].sum(dim=1)
    return {
        "reward_manager": type(worker.reward_manager).__module__ + "." + type(worker.reward_manager).__name__,
        "loop": [{"score": out["reward_score"], "extra": _floats(out["reward_extra_info"])} for out in loop_outputs],
        "legacy_scores": [float(legacy["reward_tensor"][i, valid[i] - 1]) for i in range(len(SAMPLES))],
        "legacy_extra": {k: [float(v) for v in values] for k, values in legacy["reward_extra_info"].items()},
    }


def openrlhf(workdir: Path, url: str | None = None) -> dict:
    """OpenRLHF's ``SingleTurnAgentExecutor`` (which loads ``reward_func`` from ``--reward.remote_url FILE.py``,
    or posts to ``--reward.remote_url URL``) on each sample, with a stand-in for the vLLM engine that answers
    the prompt with the sample's response. Values are shown as OpenRLHF's samples generator stores them
    (``torch.tensor([value])``)."""
    import torch
    from openrlhf.utils.agent import SingleTurnAgentExecutor

    from fixtures.tiny import build_tokenizer

    os.environ.update(GRPOKIT_REWARDS="accuracy,format:0.5")
    tokenizer = build_tokenizer()
    prompts = [tokenizer.apply_chat_template([{"role": "user", "content": f"Question {i}?"}], tokenize=False,
                                             add_generation_prompt=True) for i in range(len(SAMPLES))]
    answers = {p: tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
               for p, (text, _) in zip(prompts, SAMPLES, strict=True)}

    class Engine:  # stands in for vLLM: the sample's response, token by token
        async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
            ids = answers[tokenizer.decode(prompt_token_ids, skip_special_tokens=False)]
            return SimpleNamespace(outputs=[SimpleNamespace(token_ids=ids, finish_reason="stop", logprobs=None)])

    executor = SingleTurnAgentExecutor(url or str(ROOT / "rewards/adapters/openrlhf.py"))

    async def rollout():
        return await asyncio.gather(*[
            executor.execute(prompt, gold, SimpleNamespace(max_tokens=64, logprobs=None), 512, tokenizer, Engine())
            for prompt, (_, gold) in zip(prompts, SAMPLES, strict=True)])

    outputs = asyncio.run(rollout())
    stored = [{"reward": torch.tensor([out["reward"]]).flatten().tolist() if out["reward"] is not None else None,
               "score": torch.tensor([out["scores"]]).flatten().tolist() if out["scores"] is not None else None,
               "extra": {k: (v.flatten()[0].item() if isinstance(v, torch.Tensor) else v)
                         for k, v in out["extra_logs"].items()},
               "reward_type": type(out["reward"]).__name__} for out in outputs]
    return {"form": "http" if url else "file", "samples": stored}


def swift(workdir: Path) -> dict:
    """ms-swift's ``--external_plugins`` loader (``import_external_file``) on a plugin file that calls our
    ``register_all``, the ORMs built from ``swift.rewards.orms`` as its GRPO trainer builds them
    (``cls(args=args)``), and its reward call (``compute_rewards_per_func`` on ``GRPOSample`` rows)."""
    import torch
    from swift.rewards import orms
    from swift.rl_core.data import GRPOSample
    from swift.rl_core.grpo_algorithm import compute_rewards_per_func
    from swift.utils.utils import import_external_file

    from fixtures.tiny import build_tokenizer

    plugin = workdir / "grpokit_plugin.py"
    plugin.write_text("from rewards.adapters.swift import register_all\n\nregister_all()\n")
    import_external_file(str(plugin))
    names = ["accuracy", "format", "soft_overlong", "length"]
    # soft_overlong's lengths from ms-swift's own flags (--soft_max_length 12 --soft_cache_length 4)
    args = SimpleNamespace(soft_max_length=12, soft_cache_length=4)
    reward_funcs = [orms[name](args=args) for name in names]
    tokenizer = build_tokenizer()
    samples = [  # ms-swift leaves the end-of-turn token in the text: the first sample keeps it
        GRPOSample(messages=[{"role": "user", "content": "Solve it."},
                             {"role": "assistant", "content": text + ("<|im_end|>" if i == 0 else "")}],
                   extra={"solution": gold}, prompt_id="p0" if i < 2 else "p1",
                   response_token_ids=[tokenizer(text, add_special_tokens=False)["input_ids"]])
        for i, (text, gold) in enumerate(SAMPLES)
    ]
    rewards = compute_rewards_per_func(samples, reward_funcs, None, device=torch.device("cpu"), trainer_state=None)
    lengths = [len(s.response_token_ids[0]) for s in samples]
    return {"names": names, "orm_classes": [type(f).__module__ + "." + type(f).__name__ for f in reward_funcs],
            "rewards": [[None if v != v else v for v in row] for row in rewards.tolist()], "token_lengths": lengths}


def _floats(mapping: dict) -> dict:
    return {key: float(value) for key, value in mapping.items()}


def main(argv: list[str]) -> int:
    clients = {"verl": verl, "openrlhf": openrlhf, "swift": swift}
    if not argv or argv[0] not in clients or len(argv) > (2 if argv[0] == "openrlhf" else 1):
        print(f"usage: trainer_clients.py {{{'|'.join(clients)}}} [URL for openrlhf]", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as workdir:
        result = clients[argv[0]](Path(workdir), *argv[1:])
    print("RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
