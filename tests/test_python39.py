"""The metadata says Python >= 3.9: the core tests run under 3.9 too.

`tests/tools/install.py` (run before pytest by the README's test command) makes the 3.9
environment with this checkout installed editable; this test runs the parser, config,
CLI, backend and import tests there in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = [
    "test_urls.py",
    "test_config.py",
    "test_cli.py",
    "test_backend.py",
    "test_imports.py",
    "test_warm_path.py",
]


def test_core_tests_pass_on_python_3_9() -> None:
    tools = Path(os.environ.get("AAK_TOOLS_DIR") or ROOT / ".tools")
    python = tools / "py39" / "bin" / "python"
    if not (tools / "py39" / ".ready").exists():
        pytest.fail(f"{python} is missing: run `python tests/tools/install.py` (needs python3.9 on PATH)")
    version = subprocess.run(
        [str(python), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert version.stdout.strip() == "(3, 9)"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON_KEYRING", "KEYRINGS_"))
    }
    done = subprocess.run(
        [
            str(python),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            *(f"tests/{name}" for name in CORE),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout.splitlines()[-1]
