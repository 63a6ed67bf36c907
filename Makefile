# The README's two commands, `make demo` and `make test`, do all the set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Two cores: engines get one BLAS thread per worker unless told otherwise.
export OMP_NUM_THREADS ?= 2
export TIERCHEM_CACHE_DIR ?= $(CURDIR)/.venv/tierchem-cache

.DEFAULT_GOAL := test
.PHONY: install demo test test-slow bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,cluster,notebook]'
	touch $(STAMP)

demo: install
	$(BIN)/tierchem demo

test: install
	$(BIN)/python -m pytest -q

test-slow: install
	$(BIN)/python -m pytest -q -m slow

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info runs
