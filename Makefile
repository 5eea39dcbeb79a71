# The README's two commands: `make book` and `make test`. Both start with the same set-up.
PROFILE ?= quick
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
JOBS ?= $(shell nproc 2>/dev/null || echo 1)

.PHONY: setup book serve test notebooks reference clean

# Set-up: a virtual environment with the project and its book/dev extras, pinned by
# constraints.txt, plus (when run as root) Debian's full Fashion-MNIST for offline use.
setup: $(VENV)/.installed
	@sh .ci/system-data.sh

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e ".[book,dev,datasets]" -c constraints.txt
	touch $@

# Execute every notebook of _toc.yml with papermill (skipped when its inputs are
# unchanged; one progress line per cell; JOBS pages at once, one per core by default),
# then build the HTML book. A failing cell, an
# output a page must not show (stderr, a warning, a machine path) or a Sphinx warning
# fails.
notebooks: setup
	$(BIN)/dclib execute --profile $(PROFILE) --jobs $(JOBS)

book: notebooks
	$(BIN)/jupyter-book build -W -n --keep-going --all .
	@echo "Book: $(CURDIR)/_build/html/index.html (make serve: with search snippets)"

# Serve the built book on http://localhost:8000: a browser opening the files directly
# (file://) blocks the fetches that give search results their snippets.
serve:
	$(BIN)/python -m http.server --directory _build/html 8000

test: setup
	$(BIN)/ruff check dclib tests notebooks book/_ext
	$(BIN)/ruff format --check dclib tests notebooks book/_ext
	$(BIN)/python -m pytest

# Rerun (or resume) the committed reference results: the papers' protocol on the full
# offline data (CPU hours; finished jobs are skipped). On a GPU machine:
# make reference REFERENCE_ARGS="--profile paper --device cuda"
REFERENCE_ARGS ?= --profile full
reference: setup
	$(BIN)/dclib reference $(REFERENCE_ARGS)

clean:
	rm -rf _build book/_executed
