# Two entry points (README): `make smoke` runs the main job, `make test` the tests.
# Each does its own set-up: a virtualenv in .venv with the CPU build of torch
# installed first (otherwise pip pulls a multi-GB CUDA build); `make test` also
# installs Debian's headless Chromium when it is missing (the leaderboard's browser test).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_VERSION ?= 2.13.0
CHROMIUM ?= /usr/bin/chromium
# jemalloc: the codereps command preloads it for training and generation (codereps/allocator.py: x1.08-1.16
# train tokens/s and ~0.5 GB less peak on CPU); without it everything still runs, on the system allocator
JEMALLOC ?= /usr/lib/$(shell uname -m)-linux-gnu/libjemalloc.so.2
# root installs directly; anyone else goes through sudo (apt-get needs root)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: install chromium jemalloc smoke test lint

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==$(TORCH_VERSION)
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed jemalloc

# best effort: a machine without apt-get (or root) keeps the system allocator, and says so
jemalloc:
	@test -e $(JEMALLOC) || { command -v apt-get >/dev/null && \
		{ $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q libjemalloc2 >/dev/null 2>&1 || \
		  { $(SUDO) apt-get update -q >/dev/null && \
		    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q libjemalloc2 >/dev/null; }; }; } || \
		echo "make: jemalloc not installed (Debian: libjemalloc2); codereps runs on the system allocator"

# Debian's package, never a browser build downloaded by playwright: the test drives $(CHROMIUM).
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "make: $(CHROMIUM) is missing and there is no apt-get: install Chromium there (or set CHROMIUM=PATH)"; exit 2; }
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
	test -x $(CHROMIUM)

chromium: $(CHROMIUM)

smoke: install
	$(BIN)/codereps experiment --preset smoke

test: install chromium
	$(BIN)/ruff check .
	CODEREPS_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
