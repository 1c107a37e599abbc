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


.PHONY: install bytecode assets messages compile-messages chromium demo demo-data serve test test-sqlite test-postgres postgres lint bench bench-portal bench-peers resilience lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when the lock file or pyproject changes. Bytecode is compiled at install: where the environment
# sets PYTHONDONTWRITEBYTECODE (CI images, containers) Python never writes it, and every process the tests start
# (servers, workers, the crash tests' killed jobs) would compile Django and the rest from source again, ~2.5 s each.
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

# Our own sources (an editable install: not compiled by uv); only files changed since the last run are compiled.
bytecode: $(VENV)/.installed
	@$(BIN)/python -m compileall -q src

install: $(VENV)/.installed assets compile-messages bytecode

# Interface translations (French, Spanish): the .po files are the source, the .mo files are compiled here.
PO_FILES := $(wildcard src/ctdc/web/*/locale/*/LC_MESSAGES/django.po)
MO_FILES := $(PO_FILES:.po=.mo)
%.mo: %.po
	@command -v msgfmt >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; }
	msgfmt --check -o $@ $<
compile-messages: $(MO_FILES)
# `make messages` after changing interface strings: extracts every string of each translated app into its .po files
# (new ones arrive untranslated, changed ones fuzzy: translate them, tests/web/test_translations.py fails until
# then), then compiles. Not part of `make install`: extraction rewrites the files' creation date.
LOCALE_APPS := $(sort $(patsubst %/locale/,%,$(dir $(wildcard src/ctdc/web/*/locale/))))
messages: $(VENV)/.installed
	@command -v xgettext >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; }
	for app in $(LOCALE_APPS); do (cd $$app && DJANGO_SETTINGS_MODULE=ctdc.web.config.settings.test \
	  $(CURDIR)/$(BIN)/django-admin makemessages -l fr -l es --no-location --no-obsolete) || exit 1; done
	$(MAKE) compile-messages

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

# The demo generates its keys into var/ and serves plain HTTP on 127.0.0.1: a demo, never production
# (docs/security.md says how to run in production).
demo-data demo: export CTDC_DEMO = true
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
	@# Perpetrators, links, journey events and recruitment fees of the hotline's and the NGO's victims (standard
	@# layout, issue 17).
	@for o in lakeside-helpline harbour-light; do \
	  $(BIN)/ctdc ingest $(DEMO_DIR)/$$o.perpetrators.csv --org $$o --dataset perpetrators --approve && \
	  $(BIN)/ctdc ingest $(DEMO_DIR)/$$o.links.csv --org $$o --dataset victim_perpetrator_links --approve && \
	  $(BIN)/ctdc ingest $(DEMO_DIR)/$$o.journeys.csv --org $$o --dataset journey_events --approve && \
	  $(BIN)/ctdc ingest $(DEMO_DIR)/$$o.fees.csv --org $$o --dataset recruitment_fees --approve || exit 1; done
	@# One published release per privacy method; re-running builds only the ones still missing (adds nothing).
	@for m in k-anonymity k-synthetic dp-synthetic; do \
	  if $(BIN)/ctdc release list --json 2>/dev/null | $(BIN)/python -c 'import json,sys; sys.exit(0 if any(r["method"] == sys.argv[1] and r["status"] == "published" for r in json.load(sys.stdin)) else 1)' $$m; then \
	    echo "A published $$m release exists"; \
	  else $(BIN)/ctdc release build --method $$m --publish --notes "Demo release of simulated data ($$m)" || exit 1; fi; \
	done
	@# Government response: the simulated authorities' figures on the same cases, in UNODC's GLOTIP layout (issue 17).
	$(BIN)/ctdc org create unodc-glotip --name "UNODC GLOTIP country data (simulated figures)"
	$(BIN)/ctdc ingest $(DEMO_DIR)/government-response.csv --dataset government_response --preset unodc-glotip --org unodc-glotip --approve
	@if $(BIN)/ctdc release list --json 2>/dev/null | $(BIN)/python -c 'import json,sys; sys.exit(0 if any(r["dataset"] == "government_response" and r["status"] == "published" for r in json.load(sys.stdin)) else 1)'; then \
	  echo "A published government_response release exists"; \
	else $(BIN)/ctdc release build --dataset government_response --publish --notes "Demo release of simulated figures" || exit 1; fi
	@# Perpetrators (links, at most 3 per victim), routes (one per victim) and fees (statistics per corridor), DP,
	@# charged to the victims' budget.
	@for d in perpetrators journey_events recruitment_fees; do \
	  if $(BIN)/ctdc release list --json 2>/dev/null | $(BIN)/python -c 'import json,sys; sys.exit(0 if any(r["dataset"] == sys.argv[1] and r["status"] == "published" for r in json.load(sys.stdin)) else 1)' $$d; then \
	    echo "A published $$d release exists"; \
	  else $(BIN)/ctdc release build --dataset $$d --method dp-synthetic --epsilon 1 --publish --notes "Demo release of simulated $$d" || exit 1; fi; \
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

# Both backends at once, each on its own log printed whole when both are done (a failed run printed last, where a
# truncated CI log still shows it): the runs wait on databases, subprocesses and the browser as much as on the CPU,
# so two cores finish both in little more than the time of one. The PostgreSQL run leaves out the pure-core tests
# that cannot reach a database (tests/conftest.py, CTDC_TEST_BACKEND_ONLY). Under CI PostgreSQL is mandatory.
test: lint install chromium
	@pg=PostgreSQL; $(MAKE) -s postgres || { [ "$$CI" = "true" ] && { echo "FAIL: PostgreSQL is required under CI"; exit 1; }; \
	  pg=; echo "*** SKIPPED the PostgreSQL run: no server at 127.0.0.1:5432 ***"; }; \
	out=$$(mktemp -d /tmp/ctdc-test.XXXXXX); start=$$(date +%s); \
	( env -u DATABASE_URL $(BIN)/python -m pytest -q --basetemp=$$out/tmp-sqlite > $$out/SQLite.log 2>&1; \
	  echo $$? > $$out/SQLite.rc ) & \
	if [ -n "$$pg" ]; then ( DATABASE_URL=$(PG_URL) CTDC_TEST_BACKEND_ONLY=1 $(BIN)/python -m pytest -q \
	  --basetemp=$$out/tmp-pg > $$out/PostgreSQL.log 2>&1; echo $$? > $$out/PostgreSQL.rc ) & fi; \
	wait; runs=$$(for r in SQLite $$pg; do echo "$$(cat $$out/$$r.rc 2>/dev/null || echo 99) $$r"; done | sort -n); \
	rc=0; while read -r code name; do echo "===================== $$name (exit $$code) ====================="; \
	  cat $$out/$$name.log 2>/dev/null; [ "$$code" = 0 ] || rc=1; done <<< "$$runs"; \
	echo "===================== summary: both backends in $$(( $$(date +%s) - start )) s ====================="; \
	while read -r code name; do echo "$$name: $$(tail -n 1 $$out/$$name.log 2>/dev/null)"; done <<< "$$runs"; \
	rm -rf $$out; exit $$rc

bench: install
	$(BIN)/python benchmarks/simulate.py

# The portal under load (issue 15): wrk from Debian drives gunicorn on 127.0.0.1 only.
bench-portal: install
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python benchmarks/portal.py --keep var/bench-portal

# The resilience suite at full size (issue 18; docs/reliability.md): tests/resilience with 10 SIGKILLs per job and
# 4x the generated inputs, on PostgreSQL when it is up (else SQLite), then the load benchmark (wrk) while releases
# build and a 2-minute memory soak; one summary table. Bounded (40 minutes at most); the fast part is in `make test`.
RESILIENCE_ARGS ?=
resilience: install
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	@if $(MAKE) -s postgres; then DATABASE_URL=$(PG_URL) $(BIN)/python benchmarks/resilience.py $(RESILIENCE_ARGS); \
	else env -u DATABASE_URL $(BIN)/python benchmarks/resilience.py $(RESILIENCE_ARGS); fi

# Peers of benchmarks/privacy.py: pac-synth in the project venv (`bench` extra); MST (smartnoise-synth) in its own
# interpreter, because it pins opendp 0.14 and pandas 2. pip (not uv) so torch comes from the machine's CPU wheel.
MST_VENV := var/mst-venv
bench-peers: install
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[bench]'
	test -x $(MST_VENV)/bin/python || $(PYTHON) -m venv $(MST_VENV)
	$(MST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check torch==2.13.0 smartnoise-synth==1.0.8 polars pyarrow

clean:
	rm -rf $(VENV) var/simulated var/static node_modules $(VENDOR)
