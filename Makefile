# Tertulia: `make run` serves the chat, `make test` runs every test, `make lint` checks the style.
# Each installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# apt-get needs root: use sudo when not already root.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
BOOTSTRAP_VERSION := 5.3.9

.PHONY: run serve test unit e2e security screenshots lint lock bench chromium translations vendor clean

# Dependencies are pinned, transitive ones included: requirements.txt (to run), and on top of it
# requirements-dev.txt (tests, lint, `make lock`). Edit the .in files, then `make lock`.
# Each stamp re-installs only when its files change.
$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Write the .txt files again from the .in files with pip-tools' pip-compile. Pins already in
# a .txt are kept: LOCK_ARGS="--upgrade-package NAME" (or "--upgrade") moves them. Extras are
# stripped so that requirements.txt can serve as the others' constraints file (-c); this
# machine's pip index and find-links settings stay out of the files.
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --strip-extras \
	--unsafe-package pip --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock: $(VENV)/.installed-dev
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in
	$(PIP_COMPILE) --output-file bench/requirements.txt bench/requirements.in

# When DATABASE_URL names MySQL/MariaDB, its driver too (compiled against libmariadb-dev).
ifneq ($(filter mysql%,$(DATABASE_URL)),)
DB_DRIVER := $(VENV)/.mysql
endif
$(VENV)/.mysql: requirements-mysql.txt $(VENV)/.installed
	@test -f /usr/include/mariadb/mysql.h || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libmariadb-dev pkg-config; }
	$(PY) -m pip install --quiet -r requirements-mysql.txt
	touch $@

# One uvicorn process with production's limits (frame size, request heads: site_config/workers.py),
# not daphne's runserver, which reads every frame it is sent into memory. No reloading.
run: $(VENV)/.installed $(DB_DRIVER) translations
	$(PY) manage.py migrate --noinput
	$(PY) -m site_config.workers --host $(HOST) --port $(PORT)

# The production server on the real stack: gunicorn + uvicorn workers, PostgreSQL, Redis,
# DEBUG off, static files collected. Defaults to the local servers; any variable overrides.
SERVE_DATABASE_URL := postgres://postgres@127.0.0.1:5432/tertulia
serve: export DJANGO_DEBUG ?= false
serve: export DJANGO_HTTPS ?= false
serve: export DATABASE_URL ?= $(SERVE_DATABASE_URL)
serve: export REDIS_URL ?= redis://127.0.0.1:6379/0
serve: export DJANGO_SECRET_KEY ?= $(shell cat .secret_key 2>/dev/null)
serve: $(VENV)/.installed $(DB_DRIVER) .secret_key translations
	@if [ "$$DATABASE_URL" = "$(SERVE_DATABASE_URL)" ]; then \
	  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='tertulia'" | grep -q 1 \
	  || createdb -h 127.0.0.1 -U postgres tertulia; fi
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(VENV)/bin/gunicorn -c gunicorn.conf.py

# A local secret key for `make serve`, made once and kept out of git.
.secret_key:
	$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

test: $(VENV)/.installed-dev $(DB_DRIVER) chromium translations
	$(PY) -m pytest

unit: $(VENV)/.installed-dev $(DB_DRIVER) translations
	$(PY) -m pytest -m "not e2e"

e2e: $(VENV)/.installed-dev $(DB_DRIVER) chromium translations
	$(PY) -m pytest -m e2e

# The README's screenshots (docs/screenshots/): the seeded demo (manage.py seed_demo) in Chromium,
# served from a throwaway SQLite database like `make run`'s (e2e/screenshots.py).
screenshots: $(VENV)/.installed-dev chromium translations
	@fc-list | grep -q NotoColorEmoji || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq fonts-noto-color-emoji; }
	$(PY) -m e2e.screenshots

# The attacker's probes against a live server (e2e/test_security.py), and the unit-level
# regressions of the same cases (chat/tests/test_hardening.py); `make test` runs them too.
security: $(VENV)/.installed-dev $(DB_DRIVER) translations
	$(PY) -m pytest -m security

# ruff's lint rules and format check (settings in pyproject.toml); both run, either fails it.
lint: $(VENV)/.installed-dev
	status=0; \
	$(VENV)/bin/ruff check . || status=1; \
	$(VENV)/bin/ruff format --check . || status=1; \
	exit $$status

# Performance: Tertulia against the bare-websockets ceiling (bench/run.py; not part of make test),
# then message search over a million messages (bench/search.py) and the cost of readers in three
# languages and time zones (bench/variants.py), each in its own section of latest.md.
# Uses this machine's PostgreSQL and Redis; results in bench/results/.
$(VENV)/.bench: bench/requirements.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r bench/requirements.txt
	touch $@

bench: $(VENV)/.bench
	$(PY) bench/run.py $(BENCH_ARGS)
	$(PY) bench/search.py
	$(PY) bench/variants.py
	$(PY) bench/variants.py --redis

# The translations (locale/<language>/LC_MESSAGES/django.po) compiled into the .mo files Django
# reads (git-ignored), by GNU gettext's msgfmt, from Debian if it is missing. After marking new
# strings: `$(PY) manage.py makemessages -l es --no-location`, then translate them in the .po.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))
translations: $(MO_FILES)
$(MO_FILES): %.mo: %.po $(VENV)/.installed
	@command -v msgfmt >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq gettext; }
	$(PY) manage.py compilemessages --ignore='.*' --verbosity 0

# Playwright cannot download its own browser here: the browser tests use Debian's.
chromium:
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

# Fetch the vendored front-end files again from the npm registry (see static/vendor/README.md).
vendor:
	rm -rf .vendor-tmp && mkdir .vendor-tmp
	cd .vendor-tmp && npm pack --silent bootstrap@$(BOOTSTRAP_VERSION) && tar xzf bootstrap-$(BOOTSTRAP_VERSION).tgz
	mkdir -p static/vendor/bootstrap-$(BOOTSTRAP_VERSION)
	cp .vendor-tmp/package/dist/css/bootstrap.min.css .vendor-tmp/package/dist/css/bootstrap.min.css.map \
	   .vendor-tmp/package/LICENSE static/vendor/bootstrap-$(BOOTSTRAP_VERSION)/
	rm -rf .vendor-tmp

clean:
	rm -rf $(VENV) db.sqlite3 test_db.sqlite3 staticfiles .ruff_cache
