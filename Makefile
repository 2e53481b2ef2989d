# Two entry points on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench screenshots clean dist dist-check

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python main.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	# Branch coverage, child processes included ([tool.coverage] in pyproject.toml; the floor only rises).
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -n 2 --cov --cov-report=term:skip-covered

bench: $(STAMP)
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

screenshots: $(STAMP)
	$(BIN)/python main.py demo --db /tmp/respine-shots.db --subjects 3
	QT_QPA_PLATFORM=offscreen $(BIN)/python main.py screenshots --db /tmp/respine-shots.db --out screenshots

# The one-folder frozen build (PyInstaller, packaging/respine.spec) in dist/respine, and its
# smoke test: the built executable run as a site would (packaging/smoke_test.py).
dist: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[build]'
	rm -rf dist/respine build/pyinstaller
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/respine.spec
	du -sh dist/respine

dist-check: dist
	$(BIN)/python packaging/smoke_test.py dist/respine/respine

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dist build
