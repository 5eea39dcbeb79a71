# The README's two commands: `make book` and `make test`. Both start with the same set-up.
PROFILE ?= quick
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup book test notebooks clean

# Set-up: a virtual environment with the project and its book/dev extras, pinned by
# constraints.txt, plus (when run as root) Debian's full Fashion-MNIST for offline use.
setup: $(VENV)/.installed
	@sh .ci/system-data.sh

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e ".[book,dev]" -c constraints.txt
	touch $@

# Execute every notebook of _toc.yml with papermill (skipped when its inputs are
# unchanged), then build the HTML book; any failing cell or Sphinx warning fails.
notebooks: setup
	$(BIN)/dclib execute --profile $(PROFILE)

book: notebooks
	$(BIN)/jupyter-book build -W -n --keep-going --all .
	@echo "Book: $(CURDIR)/_build/html/index.html"

test: setup
	$(BIN)/ruff check dclib tests notebooks
	$(BIN)/ruff format --check dclib tests
	$(BIN)/python -m pytest

clean:
	rm -rf _build book/_executed
