# The two quick-start commands (`make run`, `make test`) and a few helpers.
# Everything is installed into .venv on first use, and again whenever pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ARGS ?=
PYTEST_ARGS ?=
# Test processes (pytest-xdist): one per core, at most 4; TEST_WORKERS=0 runs the suite in this process.
TEST_WORKERS ?= auto

.PHONY: run test lint format bench mutation mutation-sample mutation-score clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(INSTALLED)

run: $(INSTALLED)  ## run the bot (Socket Mode; ARGS="--http --port 3000" for HTTP mode)
	$(BIN)/smsbot run $(ARGS)

test: $(INSTALLED)  ## run the whole test suite
	$(BIN)/pytest -n $(TEST_WORKERS) --maxprocesses 4 $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(INSTALLED)  ## performance figures against the fakes (about a minute; ARGS="--database-url postgresql://…")
	$(BIN)/python -m bench.run $(ARGS)

# Mutation testing (mutmut; see docs/testing.md). Not part of `make test`: it takes hours on a busy machine,
# so it runs niced, one mutant at a time. MUTANTS narrows it, e.g. MUTANTS='bot.domain.*'; results are kept
# in mutants/ and only mutants of changed functions run again.
MUTANTS ?=
mutation: $(INSTALLED)  ## every mutant of the core modules, then the score per module
	nice -n 19 $(BIN)/mutmut run --max-children 1 $(MUTANTS)
	$(MAKE) --no-print-directory mutation-score

mutation-sample: $(INSTALLED)  ## every tenth mutant of the sending, storage, OVH and Slack modules (about 365; hours)
	nice -n 19 $(BIN)/mutmut run --max-children 1 'bot.sending.*0' 'bot.storage.*0' 'bot.ovh.*0' 'bot.slack.*0'
	$(MAKE) --no-print-directory mutation-score

mutation-score:  ## killed/checked per module, from the last runs; then the survivors (mutmut show NAME)
	@$(BIN)/mutmut results --all=true | awk -F': ' '{ name = $$1; gsub(/^ +/, "", name); \
		module = name; sub(/\.x(_|ǁ).*$$/, "", module); status = $$2; \
		if (status == "not checked") next; total[module]++; \
		if (status == "killed" || status == "timeout") killed[module]++ } \
		END { for (m in total) printf "%-24s %5d / %-5d killed (%.1f%%)\n", m, killed[m], total[m], 100 * killed[m] / total[m] }' | sort
	@$(BIN)/mutmut results | grep -v ': not checked$$' || true

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis mutants
