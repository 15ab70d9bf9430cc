# Two entry points for a fresh clone: `make demo` and `make test`. Both create .venv if it is
# missing and install the project into it first; nothing needs the Hugging Face Hub.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export TORCH_VERSION ?= 2.13.0

.PHONY: install demo test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever pyproject.toml changes; torch first so pip never picks a CUDA build by itself.
$(VENV)/.installed: pyproject.toml scripts/install_torch.sh | $(BIN)/python
	scripts/install_torch.sh $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m train.dataset

test: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

clean:
	rm -rf data/processed runs
