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
SYN_SRCS   := $(sort $(wildcard syn/*.v))
# fast path: training epochs of `make demo` and the lanes of its simulated core
DEMO_P     ?= 8
# NumPy's BLAS threads spin on the second core; the demo and the tests run one process per core instead
export OPENBLAS_NUM_THREADS ?= 1
# every test process of one `make test` / `make sim` writes its reports under build/reports/runs/<id>/
export REPORT_RUN_ID ?= $(shell date -u +%Y%m%dT%H%M%S)-$(shell echo $$PPID)

.DEFAULT_GOAL := help
.PHONY: help venv tools fastsim sim test test-golden lint synth-check synth bench demo demo-seeds readme tables clean

help:
	@echo "cnn-train-core targets:"
	@echo "  make demo         train A and B on the RTL core (Verilator fast path) beside the float and fixed"
	@echo "                    golden models, every step checked; writes build/demo/report.json + training.png"
	@echo "  make demo-seeds   the same over seeds 0-4 (mean ± sd of float, fixed, RTL accuracy), build/demo-seeds/"
	@echo "  make fastsim      build (or find cached) the Verilated core host, build/fastsim/"
	@echo "  make test         the whole suite, short vector counts (what CI runs)"
	@echo "  make test-golden  only the golden-model tests (no simulators)"
	@echo "  make sim          the RTL testbenches, full vector counts ($(SIM_SAMPLES) per block)"
	@echo "  make lint         verilator --lint-only -Wall on rtl/ (waivers in rtl/lint_waivers.vlt)"
	@echo "  make synth-check  yosys synthesis of every block for ECP5 and iCE40 (no latches)"
	@echo "  make synth        resources and Fmax (yosys + nextpnr; the core: ~1 h), writes build/synth/"
	@echo "  make bench        cycle model, golden-model and simulator speed, writes build/bench/*.json"
	@echo "  make tables       regenerate rtl/tables/*.hex and rtl/cnn_core_defs.vh from golden/"
	@echo "  make readme       regenerate README.md's generated tables from build/ reports"
	@echo "  make clean        remove build/ and .venv/"
	@echo "Variables: NUM_SAMPLES, COCOTB_RANDOM_SEED, WAVES=1, JOBS"

# ---------------------------------------------------------------- set-up
tools:
	@# the fast path compiles the Verilated core with g++ (Debian's verilator does not pull it in)
	@for t in iverilog verilator g++; do \
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
# the library is cached under build/fastsim/<params>-<hash of rtl/, tables, host>: rebuilt when rtl/ changes
fastsim: $(STAMP) tools
	$(PY) -m host.fastsim P=$(DEMO_P)

demo: fastsim
	$(PY) scripts/train.py --net A --net B --sim fast --P $(DEMO_P) --out build/demo

demo-seeds: fastsim
	$(PY) scripts/train.py --net A --net B --sim fast --P $(DEMO_P) --seeds 0-4 --out build/demo-seeds

# ---------------------------------------------------------------- tests
test: $(STAMP) tools
	NUM_SAMPLES=$${NUM_SAMPLES:-$(TEST_SAMPLES)} $(PY) -m pytest -n $(JOBS) -q tests tb

test-golden: $(STAMP)
	$(PY) -m pytest -n $(JOBS) -q tests

sim: $(STAMP) tools
	NUM_SAMPLES=$${NUM_SAMPLES:-$(SIM_SAMPLES)} $(PY) -m pytest -n $(JOBS) -q tb
	$(PY) scripts/verif_table.py --run $(REPORT_RUN_ID)

lint: tools
	@for f in $(RTL_SRCS); do m=$$(basename $$f .v); \
	  verilator --lint-only -Wall -Irtl rtl/lint_waivers.vlt $$f --top-module $$m || exit 1; \
	done; for f in $(SYN_SRCS); do m=$$(basename $$f .v); \
	  verilator --lint-only -Wall -Irtl rtl/lint_waivers.vlt $$f --top-module $$m || exit 1; \
	done; echo "lint: $(words $(RTL_SRCS)) modules and $(words $(SYN_SRCS)) syn/ tops clean"

synth-check: $(STAMP)
	$(PY) scripts/synth.py --check

synth: $(STAMP)
	$(PY) scripts/synth.py --pnr --core

bench: fastsim
	$(PY) scripts/bench.py --out build/bench

readme: $(STAMP)
	$(PY) scripts/readme_tables.py

tables: $(STAMP)
	$(PY) scripts/export_tables.py --out rtl/tables

clean:
	rm -rf build sim_build $(VENV) .pytest_cache
