# Every target sets itself up: a virtual environment in .venv, installed from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE := sample_data/logits_saved_as_probabilities.parquet

# make test-min: the lowest dependency versions pyproject.toml allows, in their own environment,
# under the tests of what a user runs (the command line, its outputs, the samples).
MIN_VENV := .venv-min
MIN_BIN := $(MIN_VENV)/bin
MIN_TESTS := tests/test_cli.py tests/test_cli_endings.py tests/test_hostile_output.py \
	tests/test_github.py tests/test_markdown.py tests/test_multi.py tests/test_render_terminal.py \
	tests/test_bad_input.py tests/test_config.py tests/test_samples.py tests/stats/test_poisson_draws.py

.PHONY: run test test-min bench samples clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	@# A broken file: the report exits 1 by design, which is the point of the demo.
	@$(BIN)/lossdoctor check $(SAMPLE); status=$$?; [ $$status -le 1 ]

test: $(VENV)/.installed-test browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# Bytecode written once: the tests start lossdoctor in child processes, each of which would
	@# compile every module again where the environment says not to write bytecode.
	$(BIN)/python -m compileall -q lossdoctor
	$(BIN)/python -m pytest -n auto

$(MIN_VENV)/.installed: pyproject.toml .ci/min_requirements.py
	rm -rf $(MIN_VENV)
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_BIN)/python -m pip install -q packaging 'tomli; python_version < "3.11"'
	$(MIN_BIN)/python .ci/min_requirements.py > $(MIN_VENV)/requirements.txt
	$(MIN_BIN)/python -m pip install -q -r $(MIN_VENV)/requirements.txt \
		pytest hypothesis scikit-learn jsonschema markdown-it-py
	$(MIN_BIN)/python -m pip install -q --no-deps -e .
	touch $@

test-min: $(MIN_VENV)/.installed
	$(MIN_BIN)/python .ci/min_requirements.py --check
	$(MIN_BIN)/python -m pytest -p no:cacheprovider $(MIN_TESTS)

# The HTML report's tests open it in headless Chromium: installed here when missing and this
# is root with apt-get; otherwise those tests skip (and fail where a browser is required: CI).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; } || \
	echo "Chromium not installed: the browser tests will skip (apt-get install chromium)"

$(VENV)/.installed-bench: pyproject.toml | $(VENV)/.installed-test
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	touch $@

bench: $(VENV)/.installed-bench
	@# Bytecode as an installed package has it, so start-up is not timed compiling sources.
	$(BIN)/python -m compileall -q lossdoctor
	$(BIN)/python benchmarks/run.py

samples: $(VENV)/.installed-test
	$(BIN)/python sample_data/make_samples.py

clean:
	rm -rf $(VENV) $(MIN_VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
