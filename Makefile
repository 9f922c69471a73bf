# Reti di comunità per l'inclusione: two commands, `make run` and `make test`.
# The interpreter of .venv: Python 3.12, the recommended one (bench/README.md, "Threads and the
# interpreter"), where it runs here; else python3 (3.11 or newer).
PYTHON ?= $(shell for p in python3.12 python3; do $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
WORKERS ?= 2
FLASK := $(BIN)/flask --app wsgi
CATALOGUES := $(wildcard app/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)

.DEFAULT_GOAL := help
.PHONY: worker help run test static install install-dev db demo lint format translations extract-messages update-messages serve clean ci

help: ## list every target
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-18s %s\n", $$1, $$2}'

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed ## create .venv and install the pinned requirements

install-dev: $(VENV)/.installed-dev ## also install the pinned test and development tools

%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

translations: $(COMPILED) ## compile the translation catalogues

STATIC_FILES := $(shell find static -type f ! -name '*.gz' ! -name '.compressed')

static/.compressed: $(STATIC_FILES) $(VENV)/.installed
	$(BIN)/python -m whitenoise.compress -q static
	touch $@

static: static/.compressed ## make the gzip copies of the static files that WhiteNoise serves

db: install translations static ## upgrade the database to the latest migration
	$(FLASK) db upgrade

demo: db ## load the demo data if the database is empty
	$(FLASK) seed-demo --if-empty

run: demo ## set everything up and serve the portal on http://127.0.0.1:$(PORT)
	@echo ""
	@echo "  Portale: http://127.0.0.1:$(PORT)"
	@echo "  Accessi dimostrativi (password: demo-Torino-2026):"
	@echo "    admin         amministratore di sistema"
	@echo "    coordinatore  coordinatrice della Città"
	@echo "    ente1         operatrice di un ente (snodo e servizio al lavoro)"
	@echo "    ente2         operatore di un altro servizio al lavoro"
	@echo "    alloggi1      gestore di alloggi"
	@echo ""
	@if [ -n "$(REDIS_URL)" ]; then echo "  REDIS_URL impostato: avvio anche il worker"; \
		$(FLASK) worker & fi; \
	$(BIN)/gunicorn --no-control-socket --workers $(WORKERS) \
		--bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

worker: install ## the background worker (exports, e-mails, nightly tasks): needs REDIS_URL
	$(FLASK) worker

lint: install-dev ## ruff lint and format check, and the package boundaries (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install-dev ## format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The Nu Html Checker (tests/test_html_valid.py): the jar of npm's vnu-jar package, fetched on demand
# with `npm pack` into the git-ignored .tools/ and checked against its pinned sha256. `make test`
# fetches it only where java and npm exist; elsewhere the test skips and says why.
VNU_VERSION := 26.9.27
VNU_SHA256 := 22f15dd39a33bed929d2a5c0cddf5946849a647eca9272bf4d5d00bc7e7a4d47
VNU_JAR := .tools/vnu-$(VNU_VERSION)/vnu.jar
VNU_FOR_TEST := $(if $(and $(shell command -v java),$(shell command -v npm)),$(VNU_JAR))

$(VNU_JAR):
	rm -rf $(@D) && mkdir -p $(@D)
	cd $(@D) && npm pack --silent vnu-jar@$(VNU_VERSION) >/dev/null
	tar -xzf $(@D)/vnu-jar-$(VNU_VERSION).tgz -C $(@D) package/build/dist/vnu.jar
	echo "$(VNU_SHA256)  $(@D)/package/build/dist/vnu.jar" | sha256sum --check --quiet
	mv $(@D)/package/build/dist/vnu.jar $@
	rm -rf $(@D)/package $(@D)/vnu-jar-$(VNU_VERSION).tgz

.PHONY: vnu
vnu: $(VNU_JAR) ## fetch the Nu Html Checker (vnu.jar, npm's vnu-jar) into .tools/

# The test OpenID provider (tests/test_auth_sso.py): npm's oidc-provider, pinned by
# tests/oidc/package-lock.json, installed into the git-ignored tests/oidc/node_modules.
# `make test` installs it where node and npm exist; without node the SSO tests skip.
OIDC_PROVIDER := tests/oidc/node_modules/.package-lock.json
OIDC_FOR_TEST := $(if $(and $(shell command -v node),$(shell command -v npm)),$(OIDC_PROVIDER))

$(OIDC_PROVIDER): tests/oidc/package.json tests/oidc/package-lock.json
	cd tests/oidc && npm ci --no-audit --no-fund --silent
	touch $@

.PHONY: oidc-provider
oidc-provider: $(OIDC_PROVIDER) ## install the test OpenID provider (npm's oidc-provider) into tests/oidc/

# The suite runs in TEST_WORKERS processes (pytest-xdist), each with its own database (a SQLite file,
# or DATABASE_URL's name with _gw0, _gw1... after it: tests/conftest.py); a test file stays whole on
# one worker (--dist loadfile: the browser suite's live server is one per file). TEST_WORKERS=0 runs
# it in this process alone; PYTEST_ARGS adds to (or overrides) these options.
TEST_WORKERS ?= 2
PYTEST_XDIST := $(if $(filter 0,$(TEST_WORKERS)),-p no:xdist,-n $(TEST_WORKERS) --dist loadfile)

test: install-dev translations static lint $(VNU_FOR_TEST) $(OIDC_FOR_TEST) ## run the whole test suite (DATABASE_URL selects PostgreSQL)
	$(BIN)/pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

extract-messages: install-dev ## extract translatable strings into app/translations/messages.pot
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o app/translations/messages.pot --no-location --sort-output .

update-messages: extract-messages ## merge new strings into the English catalogue
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching

ci: ## what CI runs: make test on SQLite and on PostgreSQL
	.ci/run

.PHONY: bench
bench: install translations ## run the benchmark (see bench/README.md)
	$(BIN)/python bench/run.py --database-url "$(or $(DATABASE_URL),sqlite:///$(CURDIR)/instance/portal.db)" $(BENCH_ARGS)

.PHONY: bench-export
bench-export: install translations ## the city-scale household export as a background job, over HTTP (needs Redis; bench/README.md)
	$(BIN)/python bench/export_job.py --database-url "$(or $(DATABASE_URL),sqlite:///$(CURDIR)/instance/scale.db)" $(BENCH_ARGS)

.PHONY: seed-scale
seed-scale: install translations ## city-scale data in an empty database (HOUSEHOLDS=100000, default instance/scale.db)
	DATABASE_URL="$(or $(DATABASE_URL),sqlite:///$(CURDIR)/instance/scale.db)" $(FLASK) db upgrade
	DATABASE_URL="$(or $(DATABASE_URL),sqlite:///$(CURDIR)/instance/scale.db)" $(FLASK) seed-scale --households $(or $(HOUSEHOLDS),100000)

clean: ## remove the virtual environment and caches (keeps instance/)
	rm -rf $(VENV) .pytest_cache .ruff_cache
