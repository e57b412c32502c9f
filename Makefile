# Two commands set up a fresh machine: `make book` (the website) and `make test` (every check).
# Both create .venv and install the exact pins in requirements.txt plus this package (editable).

PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
HTML    := _build/html
# Progress bars are for people at a notebook; the build and the tests keep pages clean.
RUN     := PATH="$(CURDIR)/$(BIN):$$PATH" MINITRANSFORMER_PROGRESS=0

.PHONY: help setup book test lint unit nbval site serve lab bench clean

help:
	@echo "make book   build the website into $(HTML) (creates $(VENV) first)"
	@echo "make test   every check: ruff, unit tests, notebooks (nbval), book build, browser"
	@echo "make serve  serve $(HTML) on http://127.0.0.1:8000"
	@echo "make lab    open the chapters in JupyterLab"
	@echo "make bench  print the benchmark tables"

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

unit: $(STAMP)
	$(RUN) $(BIN)/pytest tests -m "not site" -p no:cacheprovider

nbval: $(STAMP)
	$(RUN) $(BIN)/pytest --nbval-lax book -p no:cacheprovider

site: $(STAMP)
	$(RUN) $(BIN)/pytest tests -m site -p no:cacheprovider

test: $(STAMP)
	$(MAKE) lint
	$(MAKE) unit
	$(MAKE) nbval
	$(MAKE) book
	$(MAKE) site

serve: $(STAMP)
	@test -f $(HTML)/index.html || $(MAKE) book
	$(BIN)/python -m http.server 8000 --bind 127.0.0.1 --directory $(HTML)

lab: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab book

bench: $(STAMP)
	$(RUN) $(BIN)/python -m benchmarks

clean:
	rm -rf _build .pytest_cache .ruff_cache
