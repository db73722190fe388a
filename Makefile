# cnn-train-core: `make` prints help. Every target sets up .venv and the simulators on first use.
SHELL      := /bin/bash
PY_SYS     ?= python3
VENV       := .venv
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.installed
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
# random-vector counts: `make sim` runs the full count, `make test` a shorter one
SIM_SAMPLES  ?= 10000
TEST_SAMPLES ?= 2000
RTL_SRCS   := $(sort $(wildcard rtl/*.v))

.DEFAULT_GOAL := help
.PHONY: help venv tools sim test test-golden lint synth-check synth bench demo tables clean

help:
	@echo "cnn-train-core targets:"
	@echo "  make demo         train the float and fixed models on digits, write build/demo/report.json + plots"
	@echo "  make test         the whole suite, short vector counts (what CI runs)"
	@echo "  make test-golden  only the golden-model tests (no simulators)"
	@echo "  make sim          the RTL testbenches, full vector counts ($(SIM_SAMPLES) per block)"
	@echo "  make lint         verilator --lint-only -Wall on rtl/ (waivers in rtl/lint_waivers.vlt)"
	@echo "  make synth-check  yosys synthesis of every block for ECP5 and iCE40 (no latches)"
	@echo "  make synth        resources and Fmax (yosys + nextpnr; the core: ~1 h), writes build/synth/"
	@echo "  make bench        cycle model and golden-model speed, writes build/bench/*.json"
	@echo "  make tables       regenerate rtl/tables/*.hex from golden/"
	@echo "  make clean        remove build/ and .venv/"
	@echo "Variables: NUM_SAMPLES, COCOTB_RANDOM_SEED, WAVES=1, JOBS"

# ---------------------------------------------------------------- set-up
tools:
	@for t in iverilog verilator; do \
	  if ! command -v $$t >/dev/null 2>&1; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	      echo "installing $$t with apt-get"; \
	      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$t) >/dev/null || exit 1; \
	    else \
	      echo "error: $$t is missing; install it (Debian/Ubuntu: sudo apt-get install $$t) and rerun"; exit 1; \
	    fi; \
	  fi; \
	done

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PY_SYS) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

venv: $(STAMP)

# ---------------------------------------------------------------- main job
demo: $(STAMP)
	$(PY) scripts/train.py --net A --net B --out build/demo

# ---------------------------------------------------------------- tests
test: $(STAMP) tools
	NUM_SAMPLES=$${NUM_SAMPLES:-$(TEST_SAMPLES)} $(PY) -m pytest -n $(JOBS) -q tests tb

test-golden: $(STAMP)
	$(PY) -m pytest -n $(JOBS) -q tests

sim: $(STAMP) tools
	rm -f build/reports/scoreboards.jsonl
	NUM_SAMPLES=$${NUM_SAMPLES:-$(SIM_SAMPLES)} $(PY) -m pytest -n $(JOBS) -q tb
	$(PY) scripts/verif_table.py

lint: tools
	@for f in $(RTL_SRCS); do m=$$(basename $$f .v); \
	  verilator --lint-only -Wall -Irtl rtl/lint_waivers.vlt $$f --top-module $$m || exit 1; \
	done; echo "lint: $(words $(RTL_SRCS)) modules clean"

synth-check: $(STAMP)
	$(PY) scripts/synth.py --check

synth: $(STAMP)
	$(PY) scripts/synth.py --pnr --core

bench: $(STAMP)
	$(PY) scripts/bench.py --out build/bench

tables: $(STAMP)
	$(PY) scripts/export_tables.py --out rtl/tables

clean:
	rm -rf build sim_build $(VENV) .pytest_cache
