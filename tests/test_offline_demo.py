"""The README's first command: examples/offline_demo.py works on a machine set up against it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from helpers import CleanEnv

pytestmark = pytest.mark.e2e
DEMO = Path(__file__).resolve().parents[1] / "examples" / "offline_demo.py"


def hostile_env(clean_env: CleanEnv) -> dict[str, str]:
    """A clean machine (clean_env), then settings that would break the demo if it leaked the
    caller's environment into pip or keyring: a user pip.conf, PIP_* and CA variables, a keyring
    backend and an Azure identity."""
    missing_ca = str(clean_env.root / "missing-ca.pem")
    env = clean_env(
        PIP_INDEX_URL="https://pypi.invalid/simple/",
        PIP_NO_INDEX="1",
        PIP_CERT=missing_ca,
        REQUESTS_CA_BUNDLE=missing_ca,
        CURL_CA_BUNDLE=missing_ca,
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        AZURE_CLIENT_ID="not-a-registered-app",
    )
    del env["PIP_CONFIG_FILE"]  # so pip reads the user's pip.conf below
    pip_conf = Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf"
    pip_conf.parent.mkdir(parents=True)
    pip_conf.write_text(
        "[global]\nindex-url = https://pypi.invalid/simple/\nno-index = true\n", encoding="utf-8"
    )
    return env


def test_offline_demo_installs_through_the_backend(tmp_path: Path, clean_env: CleanEnv) -> None:
    result = subprocess.run(
        [sys.executable, str(DEMO)],
        env=hostile_env(clean_env),
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
