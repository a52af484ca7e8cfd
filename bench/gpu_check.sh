#!/usr/bin/env bash
# GPU check for grpo-train and evalsuite on a CUDA machine (CI never runs it):
#   1. GRPO steps of the demo's tiny model in bf16, generation by transformers
#   2. the same steps with vLLM generation (use_vllm, colocate mode)
#   3. evalsuite's vLLM backend on the held-out prompts
# and prints seconds per step and generated tokens per second for each, plus peak GPU memory.
# From a fresh checkout: `bash bench/gpu_check.sh` (creates .venv-gpu with grpokit[dev,vllm] unless
# VENV names an environment that has them). OUT (default out/gpu-check) holds every run folder and log.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv-gpu}
OUT=${OUT:-out/gpu-check}
STEPS=${STEPS:-20}
PY="$VENV/bin/python"

command -v nvidia-smi >/dev/null || { echo "gpu_check: no nvidia-smi: this check needs a CUDA machine" >&2; exit 2; }
if [ ! -x "$PY" ]; then
    echo "gpu_check: creating $VENV (grpokit[dev,vllm])"
    python3 -m venv "$VENV" && "$PY" -m pip install -q --upgrade pip \
        && "$PY" -m pip install -q -e ".[dev,vllm]" || { echo "gpu_check: install failed" >&2; exit 2; }
fi
"$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" \
    || { echo "gpu_check: torch in $VENV sees no CUDA device" >&2; exit 2; }
rm -rf "$OUT" && mkdir -p "$OUT"
"$PY" -m train.demo --build-only --out "$OUT" >"$OUT/build.log" 2>&1 || { cat "$OUT/build.log"; exit 2; }

cat >"$OUT/recipe.yaml" <<EOF
output_dir: $PWD/$OUT/grpo-transformers
seed: 0
model: {path: $PWD/$OUT/model, dtype: bfloat16}
data: {train: $PWD/$OUT/data/train.jsonl}
rewards: [format, accuracy]
grpo:
  bf16: true
  max_steps: $STEPS
  per_device_train_batch_size: 64
  num_generations: 8
  max_completion_length: 32
  learning_rate: 1.0e-4
  logging_steps: 1
  save_strategy: "no"
preflight: {prompts: 8, stop: false}   # an untrained model truncates everything: report only
EOF

nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 500 >"$OUT/memory.csv" 2>/dev/null &
SAMPLER=$!
trap 'kill $SAMPLER 2>/dev/null' EXIT
status=0
run() {  # name, then the command
    local name=$1; shift
    local started=$SECONDS
    if "$@" >"$OUT/$name.log" 2>&1; then
        echo "gpu_check: $name ok ($((SECONDS - started)) s, log $OUT/$name.log)"
    else
        echo "gpu_check: $name FAILED ($((SECONDS - started)) s); last lines of $OUT/$name.log:"
        tail -n 20 "$OUT/$name.log"
        status=1
    fi
}
run grpo-transformers "$VENV/bin/grpo-train" "$OUT/recipe.yaml"
run grpo-vllm "$VENV/bin/grpo-train" "$OUT/recipe.yaml" --output_dir "$OUT/grpo-vllm" --grpo.use_vllm true \
    --grpo.vllm_mode colocate --grpo.vllm_gpu_memory_utilization 0.3
run evalsuite-vllm "$VENV/bin/evalsuite" run --model "$OUT/model" --data "$OUT/data/heldout.jsonl" --backend vllm \
    --n 8 --temperature 1.0 --max-tokens 32 --rewards accuracy,format --output-dir "$OUT/eval-vllm"
kill $SAMPLER 2>/dev/null

"$PY" - "$OUT" <<'EOF'
import json, sys
from pathlib import Path

out = Path(sys.argv[1])
for name in ("grpo-transformers", "grpo-vllm"):
    summary = out / name / "summary.json"
    if not summary.exists():
        print(f"{name}: no summary (see {out / name}.log)")
        continue
    logs = [e for e in json.loads(summary.read_text())["log_history"]["grpo"] if "step_time" in e]
    steady = logs[1:] or logs  # step 1 includes warm-up (kernels, vLLM graphs)
    seconds = sum(e["step_time"] for e in steady)
    completions = 64  # per_device_train_batch_size x 1 process
    tokens = sum(e["completions/mean_length"] * completions for e in steady)
    print(f"{name}: {seconds / len(steady):.3f} s/step over steps {steady[0]['step']}-{steady[-1]['step']}, "
          f"{tokens / seconds:.0f} completion tokens/s, step 1 {logs[0]['step_time']:.2f} s")
summary = out / "eval-vllm" / "summary.json"
if summary.exists():
    timings = json.loads(summary.read_text())["timings"]
    print(f"evalsuite-vllm: {timings['generated_tokens']} tokens in {timings['generate_s']:.2f} s = "
          f"{timings['tokens_per_s']:.0f} tokens/s (load {timings['load_s']:.1f} s)")
memory = [int(x) for x in (out / "memory.csv").read_text().split() if x.strip().isdigit()]
if memory:
    print(f"peak GPU memory used (nvidia-smi, whole device): {max(memory)} MiB")
EOF
exit $status
