# `make demo`: set up .venv and run the main job on the embedded MNIST digits.
# `make test`: set up .venv and run the test suite.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_OUT ?= demo_out

.PHONY: setup demo test bench clean

$(BIN)/.installed: requirements.txt requirements-nodeps.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -r requirements-nodeps.txt
	touch $@

setup: $(BIN)/.installed

demo: setup
	$(BIN)/python cli.py demo --out $(DEMO_OUT)

test: setup
	$(BIN)/python -m pytest -q tests

clean:
	rm -rf $(DEMO_OUT) .pytest_cache
