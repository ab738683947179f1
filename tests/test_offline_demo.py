"""The README's first command: examples/offline_demo.py works on a machine set up against it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
DEMO = Path(__file__).resolve().parents[1] / "examples" / "offline_demo.py"


def hostile_env(tmp_path: Path) -> dict[str, str]:
    """Settings that would break the demo if it leaked the caller's environment into pip or keyring."""
    home = tmp_path / "home"
    (home / ".config" / "pip").mkdir(parents=True)
    (home / ".config" / "pip" / "pip.conf").write_text(
        "[global]\nindex-url = https://pypi.invalid/simple/\nno-index = true\n", encoding="utf-8"
    )
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "PIP_INDEX_URL": "https://pypi.invalid/simple/",
        "PIP_NO_INDEX": "1",
        "PIP_CERT": str(tmp_path / "missing-ca.pem"),
        "REQUESTS_CA_BUNDLE": str(tmp_path / "missing-ca.pem"),
        "CURL_CA_BUNDLE": str(tmp_path / "missing-ca.pem"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "AZURE_CLIENT_ID": "not-a-registered-app",
    }


def test_offline_demo_installs_through_the_backend(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(DEMO)],
        env=hostile_env(tmp_path),
        cwd=str(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for number in range(1, 7):
        assert f"[{number}/6] " in out
    assert "azure-artifacts-keyring explain" in out
    assert "Chain     environment" in out  # explain's own output is shown
    assert "AZURE_CLIENT_SECRET=(set, not shown)" in out
    assert "Successfully installed demo-pkg-1.0.0" in out
    seen = [line.split() for line in out.splitlines()]
    assert ["POST", "session_token", "200", "entra", "vso.packaging"] in seen
    assert ["GET", "download", "200", "session", "vso.packaging"] in seen
    assert "OK: pip installed demo-pkg 1.0.0 through the backend" in out
    assert "Traceback" not in result.stderr
