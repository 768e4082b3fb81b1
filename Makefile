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

.PHONY: demo simulate test serve lint venv clean

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

# 13 weeks on a simulated clock through the stage flows (var/simulate/report.md)
simulate: venv
	$(PY) -m demo.simulate --weeks 13

serve: venv
	$(PY) -m deploy.run_local

# Two workers, whole files each (module and session fixtures stay per file): much of the suite waits
# on servers and flow processes, so the second core is not idle while the first one waits. Three
# were faster (586 s against 650 s for 2,585 tests) but starved the live Prefect server of the
# PII-scan demo: a form's answer timed out (httpx.ReadTimeout) in a fresh-clone run.
# tests/conftest.py orders the files: the few that run for minutes first, tests/flows together.
test: venv
	$(PY) -m tests.prepare
	$(PY) -m pytest -n 2 --dist loadfile

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

clean:
	rm -rf var/ .pytest_cache .mypy_cache .ruff_cache
