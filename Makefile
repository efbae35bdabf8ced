# fieldexp: two commands set everything up on a fresh machine.
#   make demo   creates .venv, installs fieldexp, prints the demo ITT/CACE table and writes the
#               demo report (demo-report/report.html) from analyses/demo.toml on the shipped fixtures
#   make test   creates/updates .venv, runs the whole test suite (it builds the docs site too)
#   make docs   builds the documentation site into site/ (open site/index.html)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test docs venv lint typecheck fixtures reference bench clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip setuptools wheel
	$(PY) -m pip install -e '.[test,dev,docs,spark]'
	$(PY) -m ipykernel install --user --name fieldexp-venv --display-name "fieldexp (.venv)" >/dev/null 2>&1 || true
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) -m fieldexp demo
	$(PY) -m fieldexp report analyses/demo.toml --out demo-report

test: $(STAMP)
	$(PY) -m pytest -q

# Documentation site (MkDocs, warnings are errors; the notebooks are executed during the build)
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site
	@echo "documentation site: site/index.html"

lint: $(STAMP)
	$(VENV)/bin/ruff check fieldexp tests benchmarks notebooks
	$(VENV)/bin/ruff format --check fieldexp tests benchmarks notebooks

typecheck: $(STAMP)
	$(VENV)/bin/mypy fieldexp

# Regenerate the shipped fixtures with the exact commands recorded in fixtures/README.md
fixtures: $(STAMP)
	$(PY) -m fieldexp simulate --preset fixtures --out fixtures

# Refresh tests/reference/*.csv (needs R with estimatr, clubSandwich, sandwich)
reference:
	Rscript tests/reference/make_reference.R
	Rscript tests/diffindiff/make_reference_did.R

# Peers (pyfixest, csdid, differences) are installed only for benchmarks
bench: $(STAMP)
	$(PY) -m pip install -e '.[bench]'
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) site build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache
