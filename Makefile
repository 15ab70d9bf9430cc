# Two entry points for a fresh clone: `make demo` and `make test`. Both create .venv if it is
# missing and install the project into it first; nothing needs the Hugging Face Hub.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export TORCH_VERSION ?= 2.13.0

.PHONY: install label-studio demo test test-fast clean

# Checked first: with an older Python, pip would fail much later, deep inside torch's resolution.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { \
		echo "error: kalimat needs Python 3.10 or newer, $(PYTHON) is $$($(PYTHON) --version 2>&1); run make PYTHON=python3.11 (or another 3.10+)" >&2; \
		exit 2; }
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever pyproject.toml changes; torch first so pip never picks a CUDA build by itself.
$(VENV)/.installed: pyproject.toml scripts/install_torch.sh | $(BIN)/python
	scripts/install_torch.sh $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,ray]'
	touch $@

install: $(VENV)/.installed

# Label Studio, for the annotation loop's tests and walkthrough, in a virtualenv of its own:
# its pins (Django, numpy, pandas, ...) clash with the project's. sentry-sdk 3 breaks its start.
LABEL_STUDIO_VENV ?= .venv-label-studio
LABEL_STUDIO_VERSION ?= 1.23.2
$(LABEL_STUDIO_VENV)/.installed: | $(BIN)/python
	$(PYTHON) -m venv $(LABEL_STUDIO_VENV)
	$(LABEL_STUDIO_VENV)/bin/python -m pip install --quiet 'label-studio==$(LABEL_STUDIO_VERSION)' 'sentry-sdk<3'
	touch $@

label-studio: $(LABEL_STUDIO_VENV)/.installed

# The demo needs no download: the mini model is built and trained locally.
RUN := HF_HUB_OFFLINE=1 $(BIN)/python

# Two quickstart runs that differ only in their seed, the seed articles labeled by the
# first, and the two runs compared: are they really different? A second make demo replaces
# the first one's runs (train.overwrite=true).
demo: install
	$(RUN) -m train experiment=quickstart seed=1 run_name=quickstart-seed1 train.overwrite=true
	$(RUN) -m train experiment=quickstart seed=2 run_name=quickstart-seed2 train.overwrite=true
	$(RUN) scripts/predict.py --model models/quickstart-seed1 seeds/ \
		--output runs/quickstart-seed1/seeds-labeled.jsonl --html runs/quickstart-seed1/seeds-labeled.html
	$(RUN) scripts/compare_reports.py runs/quickstart-seed1 runs/quickstart-seed2 \
		--output runs/quickstart-comparison.md
	@cat runs/quickstart-comparison.md
	@printf "\nlabeled seeds: runs/quickstart-seed1/seeds-labeled.html\ncomparison:    runs/quickstart-comparison.md\n"

# Everything, as CI runs it (Label Studio, Ray, Chromium and the training runs included).
test: install label-studio
	$(RUN) -m pytest

# The inner loop: every test not marked slow (no training beyond a few seconds, no servers).
test-fast: install
	$(RUN) -m pytest -m "not slow"

clean:
	rm -rf data/processed runs
