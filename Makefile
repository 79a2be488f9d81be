# wflwv reproducibility targets. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
PIP    := $(PYTHON) -m pip
# CPU wheel served locally; a looser pin would pull CUDA builds.
TORCH_PIN ?= torch==2.13.0
DEMO_DIR  ?= build/demo
RUNS_DIR  ?= runs/demo
WFLWV     := $(PYTHON) -m wflwv

.PHONY: install install-dev demo site test bench reproduce clean gt-free-validation

install:
	@$(PYTHON) -c "import torch" 2>/dev/null || $(PIP) install -q "$(TORCH_PIN)"
	$(PIP) install -q -e .

install-dev: install
	$(PIP) install -q -e ".[dev,ray]"

demo: install
	$(WFLWV) build synthetic --preset demo --out $(DEMO_DIR)
	$(WFLWV) evaluate --model oracle --model noisy --model bimodal --dataset $(DEMO_DIR) \
	    --filter none --filter one-euro@noisy --filter kalman@noisy --filter kalman-rts@noisy \
	    --filter ema@noisy --filter savgol@noisy --filter savgol@noisy-causal \
	    --out $(RUNS_DIR)
	$(WFLWV) leaderboard $(RUNS_DIR) --out leaderboards/demo

# docs/gt_free_protocol.md §5: GT-free ordering of filters against the GT on the demo index
GT_FREE_FILTERS := none one-euro@noisy kalman@noisy kalman-rts@noisy ema@noisy savgol@noisy \
    savgol@noisy-causal one-euro kalman ema:alpha=0.3
# semi-synthetic clips from annotated real stills (local research data, never committed) and dlib68
SEMI_STILLS ?= ../shared/realdata/images_annotated/helen_300w_dxy
SEMI_FILTERS := none one-euro kalman ema:alpha=0.5 ema:alpha=0.3 one-euro:min_cutoff=3,beta=1 kalman-rts \
    savgol savgol:causal=true
gt-free-validation: install
	$(WFLWV) build synthetic --preset demo --out $(DEMO_DIR)
	$(WFLWV) evaluate --model oracle --model noisy --model bimodal --dataset $(DEMO_DIR) \
	    $(addprefix --filter ,$(GT_FREE_FILTERS)) --out runs/gt-free-validation
	$(PYTHON) -m wflwv.metrics.lag_validation runs/gt-free-validation
	@if [ -d "$(SEMI_STILLS)" ]; then \
	  $(WFLWV) build synthetic --from-images $(SEMI_STILLS) --videos 8 --frames 60 --seed 0 --out build/semi && \
	  $(WFLWV) evaluate --model dlib68 --dataset build/semi $(addprefix --filter ,$(SEMI_FILTERS)) \
	      --out runs/gt-free-validation-semi && \
	  $(PYTHON) -m wflwv.metrics.lag_validation runs/gt-free-validation-semi; \
	else echo "skipping the semi-synthetic check: $(SEMI_STILLS) (annotated stills) not found"; fi

# Static leaderboard site from the demo runs (and real runs under REAL_RUNS when present);
# run files are copied beside the page so leaderboards/site/ can be published as it is.
SITE_DIR  ?= leaderboards/site
REAL_RUNS ?= runs/reproduce
site:
	@test -d $(RUNS_DIR) || $(MAKE) demo
	$(WFLWV) leaderboard $(RUNS_DIR) $(wildcard $(REAL_RUNS)) --out $(SITE_DIR) --copy-runs --no-plots --no-print

# The committed real-clip boards leaderboards/real_clips{,.semi}.{md,csv,videos.csv}, through the one
# pipeline (build -> evaluate -> board). The clips are local research data (../shared, never committed);
# needs the [dlib] extra (make install-dev). Each board records these commands and the index fingerprints.
REALDATA  ?= ../shared/realdata
REAL_CLIPS_DIR  ?= build/real
REAL_CLIPS_RUNS ?= runs/real
REAL_FILTERS := none one-euro kalman ema:alpha=0.5 savgol
real-clips:
	$(WFLWV) build ytc --root $(REALDATA)/videos/ytc_clm --out $(REAL_CLIPS_DIR)/ytc
	$(WFLWV) build clips --root $(REALDATA)/videos --out $(REAL_CLIPS_DIR)/clips
	$(WFLWV) build synthetic --from-images $(REALDATA)/images_annotated/helen_300w_dxy --videos 8 --frames 60 \
	    --seed 0 --out $(REAL_CLIPS_DIR)/semi
	for d in ytc clips; do \
	    $(WFLWV) evaluate --model dlib68 --dataset $(REAL_CLIPS_DIR)/$$d $(addprefix --filter ,$(REAL_FILTERS)) \
	        --out $(REAL_CLIPS_RUNS)/clips || exit 1; done
	$(WFLWV) evaluate --model dlib68 --dataset $(REAL_CLIPS_DIR)/semi --boxes detector:hog \
	    $(addprefix --filter ,$(REAL_FILTERS)) --out $(REAL_CLIPS_RUNS)/semi
	$(PYTHON) -m wflwv.real_clips leaderboards/real_clips \
	    "Real detectors on unlabelled real clips (GT-free: jitter and lag)" $(REAL_CLIPS_RUNS)/clips
	$(PYTHON) -m wflwv.real_clips leaderboards/real_clips.semi \
	    "Real detectors on labelled semi-synthetic clips (annotated stills; GT and GT-free side by side)" \
	    $(REAL_CLIPS_RUNS)/semi

test: install-dev
	$(PYTHON) -m pytest -q

# Each benchmark prints its table (targets met/missed) and writes JSON + Markdown into
# $(BENCH_DIR); the last step prints one summary table over all of them.
# Add a new benchmark by appending its script name (without .py) to BENCHMARKS.
BENCH_DIR  ?= build/bench
BENCHMARKS ?= metrics filters decode build harness detectors ldeq real_models qlot ray
bench: install-dev
	rm -rf $(BENCH_DIR)
	export WFLWV_BENCH_DIR=$(abspath $(BENCH_DIR)); \
	for b in $(BENCHMARKS); do $(PYTHON) benchmarks/$$b.py || echo "benchmark $$b failed (exit $$?)"; done; \
	$(PYTHON) benchmarks/summary.py --expect "$(BENCHMARKS)"

# Real indexes: WFLWV_ROOT=/data/WFLW_V [VW300_ROOT=...] make reproduce
reproduce: install
	$(PYTHON) -m wflwv.harness.reproduce

clean:
	rm -rf build runs .pytest_cache leaderboards/demo
