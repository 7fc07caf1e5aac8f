# Planboard: `make run` sets up and serves the demo; `make test` sets up and runs the tests.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test install install-dev messages bench clean

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_plan
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "Planboard is starting at http://127.0.0.1:$(PORT)/  (Ctrl-C stops it)"
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# The demo plan is 2022's: pin "today" inside the campaign unless the caller pins another day.
run: export DEBUG ?= 1
run: export PLANBOARD_TODAY ?= 2022-05-20

test: install-dev
	$(BIN)/pytest

install: $(VENV)/.installed node_modules/.installed
install-dev: install $(VENV)/.installed-dev

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Regenerate the translation catalog after changing user-facing strings, then translate and compile.
messages: export DEBUG ?= 1
messages: install
	$(BIN)/python manage.py makemessages --locale zh_Hans --ignore ".venv/*" --ignore "node_modules/*" --no-obsolete
	$(BIN)/python manage.py compilemessages --locale zh_Hans --ignore ".venv/*" --ignore "node_modules/*"

bench: install-dev
	@ls bench/[!_]*.py >/dev/null 2>&1 && for f in bench/[!_]*.py; do $(BIN)/python $$f; done || echo "no benchmarks yet"

clean:
	rm -rf $(VENV) node_modules db.sqlite3 staticfiles
