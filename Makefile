# The two set-up commands of the README: `make demo` (the main job) and `make test` (all tests).
# Both bootstrap their own virtual environment from a bare clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test docs serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/cleanpath demo

test: $(STAMP)
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-netbox.sh
	$(PY) -m pytest -n 2 --dist loadgroup -q

# The dashboard on the demo's workspace (run `make demo` first; create a token as the README says).
serve: $(STAMP)
	$(VENV)/bin/cleanpath -w cleanpath-demo/workspace.duckdb serve --port 8000

docs: $(STAMP)
	$(PY) -m cleanpath.cli.docgen

clean:
	rm -rf $(VENV) cleanpath-demo .pytest_cache
