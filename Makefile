# Every target installs what it needs, so each works on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
MELTANO_VENV := .venv-meltano
MELTANO := $(MELTANO_VENV)/bin/meltano

.PHONY: install meltano demo test lint typecheck pytest bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

$(MELTANO):
	$(PY) -m venv $(MELTANO_VENV)
	$(MELTANO_VENV)/bin/pip install -q --upgrade pip
	$(MELTANO_VENV)/bin/pip install -q 'meltano>=4.4,<4.5'

meltano: install $(MELTANO)
	$(MELTANO) install

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check bitrix24_core bitrix24_sandbox tap_bitrix24 target_bitrix24

typecheck: install
	$(BIN)/mypy

pytest: install meltano
	PATH="$(CURDIR)/$(BIN):$(CURDIR)/$(MELTANO_VENV)/bin:$$PATH" $(BIN)/pytest -q

test: lint typecheck pytest

demo: meltano
	PATH="$(CURDIR)/$(BIN):$(CURDIR)/$(MELTANO_VENV)/bin:$$PATH" $(BIN)/python -m bench.demo

bench: meltano
	PATH="$(CURDIR)/$(BIN):$(CURDIR)/$(MELTANO_VENV)/bin:$$PATH" $(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) $(MELTANO_VENV) .meltano output
