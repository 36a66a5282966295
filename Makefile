# SchoolBatch — see README.md. The two commands: `make run` and `make test`.
CONFIG ?= release
PORT ?= 8080
BIN = .build/$(CONFIG)/schoolbatch

.PHONY: run build test loadtest bench format lint demo clean-data

run: ## Install what is missing, build, migrate ./data, start on http://127.0.0.1:8080
	@scripts/install-deps.sh run
	swift build -c $(CONFIG) --product schoolbatch
	$(BIN) serve --port $(PORT)

demo: ## Fill ./data with the demo district
	@scripts/install-deps.sh run
	swift build -c $(CONFIG) --product schoolbatch
	$(BIN) demo

build:
	@scripts/install-deps.sh run
	swift build --build-tests

test: ## Install test needs, start a throwaway PostgreSQL, run every suite on SQLite and PostgreSQL and the browser test
	@scripts/install-deps.sh test
	scripts/test.sh

loadtest: ## The upload load test at full size against the release build: 1,000 uploads of 2 MB per phase (curl and browser-like, sequential and 20 parallel)
	@scripts/install-deps.sh test
	swift build -c release --product schoolbatch
	SCHOOLBATCH_BIN=.build/release/schoolbatch SCHOOLBATCH_LOAD_UPLOADS=1000 SCHOOLBATCH_LOAD_REPORT=.build/load-report.json python3 -m pytest -q -s Tests/load

bench: ## Benchmarks (release build); figures go to docs/benchmarks.md
	@scripts/install-deps.sh test
	scripts/bench.sh

format:
	swift format --in-place --recursive --configuration .swift-format Sources Tests Package.swift

lint:
	swift format lint --recursive --configuration .swift-format Sources Tests Package.swift
