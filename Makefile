# ctdc — the two commands that matter: `make demo` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
DEMO_CASES ?= 20000
DEMO_DIR := var/simulated
DEMO_ORGS := lakeside-helpline harbour-light open-roads
DEMO_PORT ?= 8000
export CTDC_DATA_DIR ?= $(CURDIR)/var


.PHONY: install assets messages chromium demo demo-data serve test test-sqlite test-postgres postgres lint bench bench-portal bench-peers lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when the lock file or pyproject changes.
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

install: $(VENV)/.installed assets messages

# Interface translations (French, Spanish): the .po files are the source, the .mo files are compiled here.
PO_FILES := $(wildcard src/ctdc/web/*/locale/*/LC_MESSAGES/django.po)
MO_FILES := $(PO_FILES:.po=.mo)
%.mo: %.po
	@command -v msgfmt >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; }
	msgfmt --check -o $@ $<
messages: $(MO_FILES)

# Browser assets of the portal (issue 15), from npm at install time and vendored as static files: pages never load
# a CDN. vega-interpreter (the CSP-safe expression evaluator) is an ES module importing 'vega-util': it is served
# next to vega-util's own ES build, its import pointed there. Source-map comments are dropped (no maps shipped).
# axe-core stays in node_modules for the browser tests.
VENDOR := src/ctdc/web/portal/static/portal/vendor
NPM_PACKAGES := vega vega-lite vega-embed vega-interpreter vega-util world-atlas
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "Installing Debian's npm"; apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VENDOR)/.vendored: node_modules/.package-lock.json Makefile
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/vega-util $(VENDOR)/licenses
	for f in vega/build/vega.min.js vega-lite/build/vega-lite.min.js vega-embed/build/vega-embed.min.js; do \
	  sed '/^\/\/# sourceMappingURL=/d' node_modules/$$f > $(VENDOR)/$$(basename $$f); done
	for f in node_modules/vega-util/build/*.js; do sed '/^\/\/# sourceMappingURL=/d' $$f > $(VENDOR)/vega-util/$$(basename $$f); done
	sed -e "s#from 'vega-util'#from './vega-util/index.js'#" -e '/^\/\/# sourceMappingURL=/d' \
	  node_modules/vega-interpreter/build/vega-interpreter.js > $(VENDOR)/vega-interpreter.js
	cp node_modules/world-atlas/countries-110m.json $(VENDOR)/
	for p in $(NPM_PACKAGES); do cp node_modules/$$p/LICENSE $(VENDOR)/licenses/$$p.txt; done
	touch $@

assets: $(VENDOR)/.vendored

# Browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
chromium:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

demo-data: install
	$(BIN)/ctdc init
	$(BIN)/ctdc org create lakeside-helpline --name "Lakeside Helpline (fictional)" --kind hotline
	$(BIN)/ctdc org create harbour-light --name "Harbour Light Shelter Network (fictional)" --kind case_management
	$(BIN)/ctdc org create open-roads --name "Open Roads Outreach (fictional)" --kind case_management
	$(BIN)/ctdc user steward steward --password-file var/demo-steward-password.txt
	@# One contributor per organisation, user name = the organisation's slug; passwords kept in var/ like the steward's.
	@for o in $(DEMO_ORGS); do $(BIN)/ctdc user contributor $$o --org $$o --password-file var/demo-$$o-password.txt || exit 1; done
	$(BIN)/ctdc simulate --seed 2026 --cases $(DEMO_CASES) --out $(DEMO_DIR)
	$(BIN)/ctdc ingest $(DEMO_DIR)/lakeside-helpline.csv --org lakeside-helpline --mapping $(DEMO_DIR)/lakeside-helpline.mapping.yml --approve
	$(BIN)/ctdc ingest $(DEMO_DIR)/harbour-light.xlsx --org harbour-light --preset htcds --approve
	$(BIN)/ctdc ingest $(DEMO_DIR)/open-roads.csv --org open-roads --preset kobo-htcds --approve
	@# One published release per privacy method; re-running builds only the ones still missing (adds nothing).
	@for m in k-anonymity k-synthetic dp-synthetic; do \
	  if $(BIN)/ctdc release list --json 2>/dev/null | $(BIN)/python -c 'import json,sys; sys.exit(0 if any(r["method"] == sys.argv[1] and r["status"] == "published" for r in json.load(sys.stdin)) else 1)' $$m; then \
	    echo "A published $$m release exists"; \
	  else $(BIN)/ctdc release build --method $$m --publish --notes "Demo release of simulated data ($$m)" || exit 1; fi; \
	done
	$(BIN)/ctdc release list

demo: demo-data
	@echo ""
	@echo "Sign in at http://127.0.0.1:$(DEMO_PORT)/accounts/login/  (demo accounts; the passwords are kept in var/demo-*-password.txt)"
	@printf "  %-20s %-20s %s\n" "user" "password" "what for"
	@printf "  %-20s %-20s %s\n" steward "$$(cat var/demo-steward-password.txt)" "data steward: every organisation, invitations, releases, /admin/"
	@for o in $(DEMO_ORGS); do printf "  %-20s %-20s %s\n" $$o "$$(cat var/demo-$$o-password.txt)" "contributor for $$o"; done
	@echo ""
	$(BIN)/ctdc serve --host 127.0.0.1 --port $(DEMO_PORT)

lint: install
	$(BIN)/ruff check src tests benchmarks

# Start the machine's PostgreSQL if it is down. Under CI an unreachable server fails the run.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
	  command -v pg_ctlcluster >/dev/null && pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start || true; \
	  for i in $$(seq 1 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done; }
	@pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL at 127.0.0.1:5432 is unreachable"; exit 1; }

test-sqlite: install chromium
	env -u DATABASE_URL $(BIN)/python -m pytest -q

test-postgres: install chromium
	@if $(MAKE) -s postgres; then \
	  DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -q; \
	elif [ "$$CI" = "true" ]; then echo "FAIL: PostgreSQL is required under CI"; exit 1; \
	else echo "*** SKIPPED the PostgreSQL run: no server at 127.0.0.1:5432 ***"; fi

test: lint test-sqlite test-postgres

bench: install
	$(BIN)/python benchmarks/simulate.py

# The portal under load (issue 15): wrk from Debian drives gunicorn on 127.0.0.1 only.
bench-portal: install
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python benchmarks/portal.py --keep var/bench-portal

# Peers of benchmarks/privacy.py: pac-synth in the project venv (`bench` extra); MST (smartnoise-synth) in its own
# interpreter, because it pins opendp 0.14 and pandas 2. pip (not uv) so torch comes from the machine's CPU wheel.
MST_VENV := var/mst-venv
bench-peers: install
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[bench]'
	test -x $(MST_VENV)/bin/python || $(PYTHON) -m venv $(MST_VENV)
	$(MST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check torch==2.13.0 smartnoise-synth==1.0.8 polars pyarrow

clean:
	rm -rf $(VENV) var/simulated var/static node_modules $(VENDOR)
