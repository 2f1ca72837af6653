# The two quick-start commands (`make run`, `make test`) and a few helpers.
# Everything is installed into .venv on first use, and again whenever pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ARGS ?=
PYTEST_ARGS ?=

.PHONY: run test lint format bench mutation clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(INSTALLED)

run: $(INSTALLED)  ## run the bot (Socket Mode; ARGS="--http --port 3000" for HTTP mode)
	$(BIN)/smsbot run $(ARGS)

test: $(INSTALLED)  ## run the whole test suite
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(INSTALLED)  ## performance figures against the fakes (about a minute; ARGS="--database-url postgresql://…")
	$(BIN)/python -m bench.run $(ARGS)

# Mutation testing (mutmut; see docs/testing.md). Not part of `make test`: it takes tens of minutes, niced.
# MUTANTS narrows it to some modules, e.g. MUTANTS='bot.domain.*'; results are cached in mutants/.
MUTANTS ?=
mutation: $(INSTALLED)  ## mutation score of the core modules; the survivors are listed at the end
	nice -n 19 $(BIN)/mutmut run --max-children 1 $(MUTANTS)
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis mutants
