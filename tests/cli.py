"""Run ``incontro`` as an operator would in a new terminal: a new process, only the given settings."""

from __future__ import annotations

import os
import subprocess
import sys

from config.settings import PROJECT_ROOT


def run_cli(*args: str, prefect_home: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """``python -m cli.main ARGS`` with no PREFECT_/INCONTRO_ variable but ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "INCONTRO_"))}
    env.update(settings, PREFECT_HOME=prefect_home, PYTHONPATH=str(PROJECT_ROOT))
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
