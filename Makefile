# omni-retail — the two commands a newcomer needs: `make demo` and `make test`.
# Production mode: `make prod` (doc/deployment.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATABASE ?= omni_demo
# make demo DB=postgresql: the demo on PostgreSQL (sqlite by default)
DB ?= sqlite
PG_URI := postgresql://postgres@127.0.0.1:5432/
# Web worker processes of make prod (default: the cores; one on SQLite)
WORKERS ?=
# Extra arguments of scripts/demo.py, e.g. DEMO_ARGS=--small
DEMO_ARGS ?=
# The cashier page's front-end packages, copied from npm at set-up
CASHIER_VENDOR := addons/omni_o2o/cashier/vendor
export TRYTOND_DATABASE__PATH := $(CURDIR)/var
export TRYTOND_WEB__LISTEN ?= 127.0.0.1:8000
ifeq ($(DB),postgresql)
export TRYTOND_DATABASE__URI ?= $(PG_URI)
endif
PROD := $(BIN)/python scripts/prod.py --database $(DATABASE) \
	$(if $(WORKERS),--workers $(WORKERS))

.PHONY: setup demo demo-reset serve prod test test-sqlite test-postgresql \
	test-browser bench bench-stock bench-members bench-coupons bench-analytics \
	bench-till bench-orders bench-load clean

SAO_CUSTOM := node_modules/tryton-sao/custom.js node_modules/tryton-sao/custom.css

setup: $(VENV)/.installed node_modules/.installed $(SAO_CUSTOM)

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --editable '.[test]'
	touch $@

# The web client (sao) loads node_modules/<dependency>/... relative to its
# own folder: give it a node_modules that reaches the installed packages.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	ln -sfn .. node_modules/tryton-sao/node_modules
	mkdir -p $(CASHIER_VENDOR)
	cp node_modules/jsbarcode/dist/JsBarcode.all.min.js $(CASHIER_VENDOR)/
	touch $@

# sao's index.html loads custom.js and custom.css from its root: our
# additions (the in-store new-order alert), linked from web/
node_modules/tryton-sao/custom.%: web/custom.% | node_modules/.installed
	ln -sfn ../../web/custom.$* $@

# The demo lives: web, cron and queue worker, as in production
demo: setup
	$(BIN)/python scripts/demo.py --database $(DATABASE) $(DEMO_ARGS)
	$(PROD)

demo-reset: setup
	$(BIN)/python scripts/demo.py --database $(DATABASE) --reset $(DEMO_ARGS)
	$(PROD)

# trytond's development server alone (one process, no cron, tasks inline)
serve:
	@echo "Serving the web client at http://$(TRYTOND_WEB__LISTEN)/ (Ctrl-C stops)"
	$(BIN)/trytond -c trytond.conf -d $(DATABASE)

# Production mode, in the foreground (Ctrl-C stops everything): gunicorn
# web workers, trytond-cron and trytond-worker on DATABASE at
# TRYTOND_DATABASE__URI (PostgreSQL at $(PG_URI) unless set)
prod: setup
	TRYTOND_DATABASE__URI="$${TRYTOND_DATABASE__URI:-$(PG_URI)}" $(PROD)

test: setup
	$(BIN)/python scripts/run_tests.py

test-sqlite test-postgresql test-browser: setup
	$(BIN)/python scripts/run_tests.py --backend $(@:test-%=%)

clean:
	rm -rf var/db-cache var/db-cache-bench var/pytest-*.xml

bench: bench-stock bench-members bench-coupons bench-analytics bench-till \
	bench-orders bench-load

bench-stock: setup
	$(BIN)/python bench/stock_availability.py

bench-members: setup
	$(BIN)/python bench/members.py

bench-coupons: setup
	$(BIN)/python bench/coupons.py

bench-analytics: setup
	$(BIN)/python bench/analytics.py

bench-till: setup
	$(BIN)/python bench/till.py

bench-orders: setup
	$(BIN)/python bench/orders.py

bench-load: setup
	$(BIN)/python bench/load.py
