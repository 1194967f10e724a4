# newsagg — two commands: `make demo` and `make test` (`make test-fast` skips the slow tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The CPU build of torch, pinned with its local version so pip can never pick a CUDA wheel.
# On machines without a local wheel: make TORCH_PIP_ARGS="--extra-index-url https://download.pytorch.org/whl/cpu"
TORCH_SPEC     ?= torch==2.13.0+cpu
TORCH_PIP_ARGS ?=
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install demo test test-fast bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check "$(TORCH_SPEC)" $(TORCH_PIP_ARGS)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/newsagg demo

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

bench: install
	$(BIN)/python benchmarks/extraction.py --html ../shared/data/extraction/html --truth ../shared/data/extraction/ground-truth.json

clean:
	rm -rf $(VENV) data .pytest_cache
