# Tertulia: `make run` serves the chat, `make test` runs every test. Each installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# apt-get needs root: use sudo when not already root.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
BOOTSTRAP_VERSION := 5.3.9

.PHONY: run test unit e2e chromium vendor clean

# Re-install only when requirements.txt changes.
$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py runserver --noreload $(HOST):$(PORT)

test: $(VENV)/.installed chromium
	$(PY) -m pytest

unit: $(VENV)/.installed
	$(PY) -m pytest -m "not e2e"

e2e: $(VENV)/.installed chromium
	$(PY) -m pytest -m e2e

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
	rm -rf $(VENV) db.sqlite3 test_db.sqlite3 staticfiles
