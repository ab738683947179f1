"""Compatibility variables: `check` validates them, AZURE_AUTHORITY_HOST is read as azure-identity reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli as run

pytestmark = pytest.mark.usefixtures("cli_env")


# --- check: compatibility variables are validated too ---------------------------------------


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("AZURE_DEVOPS_PAT_DURATION", "ninety"),
        ("KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN", "maybe"),
        ("AZURE_DEVOPS_PAT_SCOPE", "vso.packaging!"),
        ("AZURE_AUTHORITY_HOST", "http://login.example"),
    ],
)
def test_check_reports_a_bad_compatibility_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, var: str, value: str
) -> None:
    """A lookup refuses a credential over a bad compatibility variable and says `run azure-artifacts-keyring
    check`: check must then name that variable, not report the configuration clean."""
    monkeypatch.setenv(var, value)
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert f"env:{var}: " in out


# --- AZURE_AUTHORITY_HOST as azure-identity reads it ------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("login.microsoftonline.us", "https://login.microsoftonline.us"),
        ("https://login.microsoftonline.us/", "https://login.microsoftonline.us"),
        ("login.chinacloudapi.cn/", "https://login.chinacloudapi.cn"),
    ],
)
def test_azure_authority_host_without_a_scheme_is_https(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    value: str,
    expected: str,
) -> None:
    """azure-identity's own constants (AzureAuthorityHosts.AZURE_GOVERNMENT) have no scheme and it
    prefixes https://; refusing them would stop every lookup in a sovereign-cloud pipeline."""
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", value)
    url = "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"
    code, out, _ = run(capsys, "explain", url, "--json", "--config", str(_empty(tmp_path)))
    report = json.loads(out)
    assert report["config"]["errors"] == []
    assert code == 0
    assert report["settings"]["authority_host"] == {"value": expected, "from": "env:AZURE_AUTHORITY_HOST"}


def _empty(tmp_path: Path) -> Path:
    """A config file with nothing in it (a missing file named on the command line is an error)."""
    path = tmp_path / "empty.cfg"
    path.write_text("")
    return path
