"""The portal starts as `make run` and gunicorn start it: `import wsgi` in a fresh interpreter.

The test session imports the packages in its own order (conftest, factories); a fresh process
imports them as production does, so an import cycle between packages shows up here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wsgi_imports_in_a_fresh_interpreter(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'start.db'}"}
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi; print(sorted(wsgi.app.blueprints)[0])"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "admin"
