"""TRL needs no adapter: GRPOTrainer trains two CPU steps on a tiny local model with our rewards passed as is,
and logs ``rewards/<name>/mean`` for each of them."""

import pytest

pytest.importorskip("trl")


@pytest.mark.slow
def test_grpo_trainer_two_steps_logs_our_reward_names(tmp_path):
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    import rewards
    from fixtures.tiny import build_text_model

    model_dir = build_text_model(tmp_path / "model", hidden_size=32, num_layers=1, num_heads=2, num_kv_heads=1)
    questions = [("What is 2+2?", "4"), ("What is 3+4?", "7"), ("What is 5+5?", "10"), ("What is 1+8?", "9")]
    dataset = Dataset.from_dict({
        "prompt": [[{"role": "user", "content": q}] for q, _ in questions],
        "solution": [a for _, a in questions],
    })
    reward_funcs = [
        rewards.format(),
        rewards.format_partial(),
        rewards.accuracy(timeout=2.0),
        rewards.length(),
        rewards.cosine(max_len=16),
        rewards.repetition(unit="tokens"),
        rewards.soft_overlong(max_len=16, cache_len=4),
        rewards.combine({"tag_count": 1.0, "iou": 0.5}, name="combined"),
    ]
    config = GRPOConfig(
        output_dir=str(tmp_path / "out"),
        use_cpu=True,
        bf16=False,
        gradient_checkpointing=False,
        per_device_train_batch_size=4,
        num_generations=2,
        generation_batch_size=4,
        max_completion_length=16,
        max_steps=2,
        logging_steps=1,
        learning_rate=1e-4,
        save_strategy="no",
        report_to="none",
        seed=0,
    )
    trainer = GRPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(model_dir),
        processing_class=AutoTokenizer.from_pretrained(model_dir),
        reward_funcs=reward_funcs,
        args=config,
        train_dataset=dataset,
    )
    trainer.train()

    logged = {key for entry in trainer.state.log_history for key in entry}
    for fn in reward_funcs:
        assert f"rewards/{fn.__name__}/mean" in logged, sorted(logged)
    assert trainer.state.global_step == 2


@pytest.mark.slow
def test_grpo_trainer_awaits_our_async_rewards_and_shows_their_columns_and_counts(tmp_path):
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    import rewards
    from fixtures.tiny import build_text_model

    model_dir = build_text_model(tmp_path / "model", hidden_size=32, num_layers=1, num_heads=2, num_kv_heads=1)
    dataset = Dataset.from_dict({"prompt": [[{"role": "user", "content": f"What is {a}+1?"}] for a in range(4)],
                                 "solution": [str(a + 1) for a in range(4)]})
    reward_funcs = [rewards.get("accuracy", asynchronous=True), rewards.get("cosine", asynchronous=True, max_len=16),
                    rewards.get("format")]
    config = GRPOConfig(output_dir=str(tmp_path / "out"), use_cpu=True, bf16=False, per_device_train_batch_size=4,
                        num_generations=2, generation_batch_size=4, max_completion_length=16, max_steps=2,
                        logging_steps=1, learning_rate=1e-4, save_strategy="no", report_to="none", seed=0)
    trainer = GRPOTrainer(model=AutoModelForCausalLM.from_pretrained(model_dir),
                          processing_class=AutoTokenizer.from_pretrained(model_dir),
                          reward_funcs=reward_funcs, args=config, train_dataset=dataset)
    trainer.train()

    logged = {key for entry in trainer.state.log_history for key in entry}
    assert {"rewards/accuracy/mean", "rewards/cosine/mean", "rewards/format/mean"} <= logged
    assert {"rewards/accuracy/no_answer", "rewards/accuracy/timeout", "rewards/accuracy/error"} <= logged
    table = trainer._logs["extra"]  # the completions table's extra columns, one value per logged completion
    for column in ("accuracy/answer", "accuracy/status", "cosine/status", "format/problem"):
        assert len(table[column]) == len(trainer._logs["prompt"]) == 4, column
    assert set(table["accuracy/status"]) <= {"equal", "not_equal", "no_answer"}
