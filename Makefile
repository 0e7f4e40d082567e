# The single entry point. `make run` starts the product, `make test` checks all of it.
# Every target sets up what it needs first; nothing here assumes a prepared machine.

PYTHON ?= python3
DEVSTACK := $(PYTHON) -m devstack
IN_RASA := $(DEVSTACK) exec rasa
IN_ACTIONS := $(DEVSTACK) exec actions

.PHONY: help run shell catalog store recommender bench-store bench-search bench-recommender bench-nlu bench-turn bench-console setup train test lint typecheck test-services test-rasa-runtime validate test-stories test-e2e clean

help:
	@echo "make run    set up what is missing, then start the assistant (Ctrl-C stops everything)"
	@echo "make test   set up what is missing, then lint, type-check and run every test suite"
	@echo "make setup  create environments, demo shop data, product index and trained model"
	@echo "make train  retrain the Rasa model if its training data or config changed"
	@echo "make recommender  retrain the product recommender on the shop database (served file swapped atomically)"
	@echo "make shell  chat in the terminal (custom actions need \`make run\` in another terminal)"

run:
	$(DEVSTACK) run

shell: setup
	$(IN_RASA) sh -c 'rasa shell --model "$$RASA_MODEL_FILE" --endpoints "$$RASA_ENDPOINTS_FILE" --port "$${RASA_SHELL_PORT:-5006}"'

# the catalog's commands, e.g. make catalog ARGS="import export.csv --map title=Name"
catalog:
	$(IN_ACTIONS) python -m catalog $(ARGS)

# retrain the recommender on the shop's orders and interactions; the running action server picks it up
recommender:
	$(IN_ACTIONS) python -m recommender train $(ARGS)

# the store's operator commands, e.g. make store ARGS="stats" or ARGS="import online-retail file.csv.gz"
store:
	$(IN_ACTIONS) python -m store $(ARGS)

setup:
	$(DEVSTACK) setup

train:
	$(DEVSTACK) train

test: setup lint typecheck test-services test-rasa-runtime validate test-stories test-e2e
	@echo "make test: every check passed"

lint:
	$(IN_ACTIONS) ruff check .
	$(IN_ACTIONS) ruff format --check .

typecheck:
	$(IN_ACTIONS) mypy

test-services:
	$(IN_ACTIONS) python -m pytest tests/services tests/store tests/recommender tests/console

test-rasa-runtime:
	$(IN_RASA) python -m pytest tests/rasa_runtime

validate:
	$(IN_RASA) python -m bot.validate

test-stories:
	$(IN_RASA) sh -c 'rasa test core --model "$$RASA_MODEL_FILE" --stories tests/stories \
		--fail-on-prediction-errors --out "$$SHOP_REPORTS_DIR/rasa-test"'

test-e2e:
	$(IN_ACTIONS) python -m pytest tests/e2e

clean:
	rm -rf .venv var models/rasa models/catalog reports .rasa .mypy_cache .pytest_cache .ruff_cache

# Benchmarks: each prints a table and writes reports/<area>.json. Scale with ARGS, e.g. ARGS="--customers 20000".
bench-store: setup
	$(IN_ACTIONS) python -m store.benchmark $(ARGS)

bench-search: setup
	$(IN_ACTIONS) python -m catalog.benchmark $(ARGS)

bench-recommender: setup
	$(IN_ACTIONS) python -m recommender.benchmark $(ARGS)

# e.g. ARGS="--only sentiment,latency" or ARGS="--folds 5 --clinc-epochs 60"
bench-nlu: setup
	$(IN_RASA) python -m benchmarks.nlu $(ARGS)

# one full turn (REST -> NLU -> policy -> action with store, search, recommender -> reply), next to
# a plain `rasa init` assistant; e.g. ARGS="--rounds 20 --concurrency 20"
bench-turn: setup
	$(IN_ACTIONS) python -m benchmarks.turn $(ARGS)

# the staff console on 100,000 conversations / 2,000,000 tracker events (generated once, cached in var/bench/):
# sync throughput, list and transcript server time; e.g. ARGS="--conversations 20000 --events 400000"
bench-console: setup
	$(IN_ACTIONS) python -m console.benchmark $(ARGS)
