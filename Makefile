# Consilium: the two commands (`make dev`, `make test`) and the helpers behind them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv/bin

.PHONY: help venv dev test test-unit bench faults lint protos schema migrate kafka-start kafka-stop postgres-start postgres-stop clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

venv: ## install uv (cached in ~/.cache/consilium) and the locked packages into .venv
	@bash scripts/bootstrap.sh

dev: venv ## run the whole system locally on embedded defaults (SQLite, demo data); VERBOSE=1 shows the components' logs
	@$(VENV)/consilium dev $(if $(VERBOSE),--verbose)

test: ## install what is missing, start real PostgreSQL and Kafka, run every test
	@bash scripts/test.sh

test-unit: venv ## only the fast tests that need no server
	@$(VENV)/pytest tests/unit tests/contract -q

bench: venv ## the benchmark (BACKEND=dev: SQLite + embedded bus; BACKEND=real: PostgreSQL + Kafka), ~3 min
	@BACKEND=$(or $(BACKEND),dev) bash scripts/bench.sh

faults: venv ## the fault matrix: kill -9/SIGSTOP PostgreSQL, Kafka, each service and the gateway under load; a table (~10 min, 20 at most)
	@bash scripts/faults.sh

lint: venv ## ruff, mypy (strict), import-linter contracts, buf lint
	@$(VENV)/ruff check .
	@$(VENV)/ruff format --check .
	@$(VENV)/mypy
	@$(VENV)/lint-imports
	@cd protos && ../$(VENV)/buf lint

protos: venv ## regenerate Python code (with .pyi stubs) from protos/
	@bash scripts/gen_protos.sh

schema: venv ## record the GraphQL SDL snapshot (gateway/schema.graphql) after a reviewed change
	@CONSILIUM_UPDATE_SDL=1 $(VENV)/pytest -q tests/contract/test_sdl_snapshot.py

migrate: venv ## apply database migrations of every service
	@$(VENV)/consilium migrate

kafka-start: venv ## start the real Kafka broker used by tests (prints its address)
	@bash scripts/kafka.sh start
kafka-stop: ## stop it
	@bash scripts/kafka.sh stop
postgres-start: venv ## start the private PostgreSQL server used by tests
	@bash scripts/postgres.sh start
postgres-stop: ## stop it
	@bash scripts/postgres.sh stop

.PHONY: image chart
image: ## build the one container image with buildah (base rootfs cached in ~/.cache/consilium), print its size
	@bash scripts/image.sh
chart: ## build helm (cached), lint and render the chart over deploy/helm/consilium/ci/*, validate every object
	@bash scripts/chart.sh

clean: ## remove local state (.consilium/) and caches in the checkout
	rm -rf .consilium .pytest_cache .mypy_cache .ruff_cache
