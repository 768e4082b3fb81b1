# Incontro – the two commands a newcomer needs: `make demo` and `make test`.
# Both create/refresh .venv from uv.lock (uv itself is bootstrapped into .venv/tools).
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: demo test serve lint venv clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: every flow run, worker and test server is a new Python process; where
# PYTHONDONTWRITEBYTECODE is set (many CI and container images) each one would otherwise
# recompile Prefect and its dependencies from source (10 s instead of 4 s per import here).
venv: $(UV)
	$(UV) sync --locked --quiet --compile-bytecode --python $(PYTHON)

demo: venv
	$(PY) -m demo.run

serve: venv
	$(PY) -m deploy.run_local

test: venv
	$(PY) -m tests.prepare
	$(PY) -m pytest

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

clean:
	rm -rf var/ .pytest_cache .mypy_cache .ruff_cache
