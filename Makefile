# Netwright: `make run` opens the designer, `make test` runs every check.
# Both start from nothing: they create .venv and install pinned versions.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
export QT_QPA_PLATFORM ?= $(if $(DISPLAY)$(WAYLAND_DISPLAY),,offscreen)

.PHONY: install run test test-models lint unit bench docs screenshots clean

install: $(STAMP)

# torch is pinned (constraints.txt) to a CPU build here; see README "GPU set-up" for CUDA.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/netwright gui

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: install
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider

test: lint unit

# every real-model import case, slow ones included; one family: PYTEST_ARGS="-k light"
test-models: install
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider -m "slow or not slow" \
		--durations=0 tests/engine/test_import_real_models.py $(PYTEST_ARGS)

bench: install
	@for script in benchmarks/*.py; do echo "== $$script"; QT_QPA_PLATFORM=offscreen $(PY) $$script || exit 1; done

docs: install
	$(PY) docs/make_reference.py

screenshots: install
	QT_QPA_PLATFORM=offscreen $(PY) docs/make_screenshots.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
