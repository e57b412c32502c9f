# Two commands set up a fresh machine: `make book` (the website) and `make test` (every check).
# Both create .venv and install the exact pins in requirements.txt plus this package (editable).

PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
HTML    := _build/html
# Progress bars are for people at a notebook; the build and the tests keep pages clean.
# PASSIVE: idle OpenMP threads sleep instead of spinning, so a busy machine does not
# slow a two-thread run by an order of magnitude (measured: 3.2 s vs 0.12 s per step).
# Waking a sleeping thread is slow on a quiet 2-vCPU machine, though (chapter 2 on two
# threads: 36 s with PASSIVE, 14 s without), so the chapters run on one thread.
# PYTHONPATH: this tree's package first, so a git worktree sharing a .venv tests its own code.
RUN     := PATH="$(CURDIR)/$(BIN):$$PATH" PYTHONPATH="$(CURDIR)" MINITRANSFORMER_PROGRESS=0 \
           OMP_WAIT_POLICY=PASSIVE

.PHONY: help setup book test lint typecheck unit nbval site serve lab lab-test bench claims dist \
        test-min clean

help:
	@echo "make book   build the website into $(HTML) (creates $(VENV) first)"
	@echo "make test   every check: ruff, unit tests, notebooks (nbval), JupyterLab, book build,"
	@echo "            site"
	@echo "make serve  serve $(HTML) on http://127.0.0.1:8000"
	@echo "make lab    open the chapters in JupyterLab (MyST rendered by jupyterlab-myst)"
	@echo "make bench  print the benchmark tables (BENCH=decoding: only the named sections)"
	@echo "make dist   build the wheel and the sdist into dist/"
	@echo "make test-min  the unit tests with the oldest dependency versions pyproject.toml allows"
	@echo "make typecheck  mypy on the package (part of make test)"
	@echo "make claims run every chapter under seeds 0-4 (SEEDS=3 for one; NOTEBOOKS=book/x.ipynb;"
	@echo "            CLAIMS_FLAGS=--record writes book/claims/<chapter>.json)"

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

book: $(STAMP)
	$(RUN) $(BIN)/jupyter-book build . -W -n --keep-going
	@echo "Built: $(HTML)/index.html (read it with: make serve)"

lint: $(STAMP)
	$(RUN) $(BIN)/ruff check .

# mypy in its default mode on the package (configured in pyproject.toml).
typecheck: $(STAMP)
	$(RUN) $(BIN)/mypy minitransformer

unit: $(STAMP)
	$(RUN) $(BIN)/pytest tests -m "not site and not lab" -p no:cacheprovider

nbval: $(STAMP)
	$(RUN) $(BIN)/pytest --nbval-lax book -p no:cacheprovider

site: $(STAMP)
	$(RUN) $(BIN)/pytest tests -m site -p no:cacheprovider

# The chapters in `make lab`'s JupyterLab, opened in headless Chromium; chapter 1 run end to end.
lab-test: $(STAMP)
	$(RUN) $(BIN)/pytest tests/test_lab.py -m lab -p no:cacheprovider

test: $(STAMP)
	$(MAKE) lint
	$(MAKE) typecheck
	$(MAKE) unit
	$(MAKE) nbval
	$(MAKE) lab-test
	$(MAKE) book
	$(MAKE) site

serve: $(STAMP)
	@test -f $(HTML)/index.html || $(MAKE) book
	$(BIN)/python -m http.server 8000 --bind 127.0.0.1 --directory $(HTML)

# jupyterlab-myst (requirements.txt) renders the chapters' MyST: exercises, collapsed solutions,
# math, and the prose's {eval} numbers once their cells have run (Run > Run All Cells).
lab: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab book

# A wheel and an sdist in dist/, built offline with this environment's setuptools
# (tests/test_dist.py installs the wheel into a fresh environment and uses it).
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .

# The unit tests at the lower bounds of pyproject.toml's dependency ranges (numpy, matplotlib
# and tqdm downloaded from PyPI into a temporary environment; torch 2.13.0 borrowed). Slow
# (about 2 minutes), so not part of `test`.
test-min: $(STAMP)
	$(RUN) $(BIN)/python scripts/test_min.py

bench: $(STAMP)
	$(RUN) $(BIN)/python -m benchmarks $(BENCH)

# Every chapter under several seeds (each chapter reads MINITRANSFORMER_SEED): a claim that
# holds for one seed only fails here. Slow (about 5 x the chapters' time), so not in `test`.
SEEDS ?= 0 1 2 3 4
claims: $(STAMP)
	$(RUN) $(BIN)/python scripts/claims.py $(NOTEBOOKS) --seeds $(SEEDS) $(CLAIMS_FLAGS)

clean:
	rm -rf _build dist .pytest_cache .ruff_cache .mypy_cache
