# wflwv reproducibility targets. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
PIP    := $(PYTHON) -m pip
# CPU wheel served locally; a looser pin would pull CUDA builds.
TORCH_PIN ?= torch==2.13.0
DEMO_DIR  ?= build/demo
RUNS_DIR  ?= runs/demo
WFLWV     := $(PYTHON) -m wflwv

.PHONY: install install-dev demo test bench reproduce clean

install:
	@$(PYTHON) -c "import torch" 2>/dev/null || $(PIP) install -q "$(TORCH_PIN)"
	$(PIP) install -q -e .

install-dev: install
	$(PIP) install -q -e ".[dev]"

demo: install
	$(WFLWV) build synthetic --preset demo --out $(DEMO_DIR)
	$(WFLWV) evaluate --model oracle --model noisy --model bimodal --dataset $(DEMO_DIR) \
	    --filter none --filter one-euro@noisy --filter kalman@noisy --filter kalman-rts@noisy \
	    --filter ema@noisy --filter savgol@noisy --filter savgol@noisy-causal \
	    --out $(RUNS_DIR)
	$(WFLWV) leaderboard $(RUNS_DIR) --out leaderboards/demo

test: install-dev
	$(PYTHON) -m pytest -q

bench: install
	$(PYTHON) benchmarks/metrics.py
	$(PYTHON) benchmarks/filters.py
	$(PYTHON) benchmarks/decode.py
	$(PYTHON) benchmarks/build.py
	$(PYTHON) benchmarks/harness.py
	$(PYTHON) benchmarks/detectors.py
	$(PYTHON) benchmarks/ldeq.py
	$(PYTHON) benchmarks/real_models.py

# Real indexes: WFLWV_ROOT=/data/WFLW_V [VW300_ROOT=...] make reproduce
reproduce: install
	$(PYTHON) -m wflwv.harness.reproduce

clean:
	rm -rf build runs .pytest_cache
