"""URL recognition, configuration and explain against adversarial inputs: each test pins one problem found."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keyrings.azure_artifacts import cli
from keyrings.azure_artifacts.urls import HostRule, parse_service

COMPAT_VARS = (
    "KEYRINGS_AZURE_ARTIFACTS_CONFIG",
    "KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN",
    "AZURE_DEVOPS_PAT_DURATION",
    "AZURE_DEVOPS_PAT_SCOPE",
    "ARTIFACTS_KEYRING_NONINTERACTIVE_MODE",
    "AZURE_AUTHORITY_HOST",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in COMPAT_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    monkeypatch.setenv("KEYRINGS_AZURE_ARTIFACTS_STATE_DIR", str(tmp_path / "state"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- §2/§3: an IPv6 host named by a `host` section -------------------------------------------


def test_ipv6_host_keeps_its_brackets_in_netloc_and_urls() -> None:
    rule = HostRule(host="::1", port=8443, path_prefix="/tfs")
    ref = parse_service("https://[::1]:8443/tfs/coll/_packaging/f/pypi/simple/", [rule])
    assert ref is not None
    assert ref.netloc == "[::1]:8443"
    assert ref.origin == "https://[::1]:8443"
    assert ref.default_vssps_url() == "https://[::1]:8443/tfs/coll"
    assert ref.feed_url() == "https://[::1]:8443/tfs/coll/_packaging/f/pypi/simple/"
    # What the backend remembers as the feed URL must be recognised again (logout --all uses it).
    assert parse_service(ref.feed_url(), [rule]) is not None


def test_ipv6_host_on_the_default_port_drops_the_port_only() -> None:
    ref = parse_service("https://[::1]/coll/_packaging/f/pypi/simple/", [HostRule(host="::1")])
    assert ref is not None
    assert ref.netloc == "[::1]"


def test_explain_json_shows_an_ipv6_host_bracketed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "keyringrc.cfg"
    config.write_text('[artifacts host="[::1]:8443"]\npath_prefix = /tfs\n', encoding="utf-8")
    url = "https://[::1]:8443/tfs/coll/_packaging/f/pypi/simple/"
    code, out, _ = run(capsys, "explain", url, "--json", "--config", str(config))
    report = json.loads(out)
    assert code == 0
    assert report["url"]["host"] == "[::1]:8443"
    assert report["settings"]["vssps_url"] == {"value": "https://[::1]:8443/tfs/coll", "from": "default"}


# --- §6 check: compatibility variables are validated too ---------------------------------------


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
    """A lookup refuses a credential over a bad §7 variable and says `run azure-artifacts-keyring
    check`: check must then name that variable, not report the configuration clean."""
    monkeypatch.setenv(var, value)
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert f"env:{var}: " in out


# --- §7: AZURE_AUTHORITY_HOST as azure-identity reads it ------------------------------------


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
    code, out, _ = run(capsys, "explain", url, "--json", "--config", str(tmp_path / "none.cfg"))
    report = json.loads(out)
    assert report["config"]["errors"] == []
    assert code == 0
    assert report["settings"]["authority_host"] == {"value": expected, "from": "env:AZURE_AUTHORITY_HOST"}


# --- §6 explain --json: numbers of seconds are integers ----------------------------------------


def test_explain_json_timeout_default_is_integer_seconds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"
    code, out, _ = run(capsys, "explain", url, "--json", "--config", str(tmp_path / "none.cfg"))
    value = json.loads(out)["settings"]["timeout"]["value"]
    assert code == 0
    assert value == 20 and isinstance(value, int)


def test_explain_json_keeps_a_fractional_timeout(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "keyringrc.cfg"
    config.write_text("[artifacts]\ntimeout = 2.5\n", encoding="utf-8")
    url = "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"
    code, out, _ = run(capsys, "explain", url, "--json", "--config", str(config))
    assert code == 0
    assert json.loads(out)["settings"]["timeout"] == {"value": 2.5, "from": "artifacts"}


# --- the warm path: every variable that changes the settings changes the fingerprint ------------


def test_section_names_may_hold_a_closing_bracket_on_every_python(tmp_path: Path) -> None:
    """configparser before 3.10 ends a section name at the first `]`, which cut
    `[artifacts host="[::1]:8443"]` short on Python 3.9 (requires-python >= 3.9)."""
    from keyrings.azure_artifacts.config.files import read_config

    config = tmp_path / "keyringrc.cfg"
    config.write_text('[artifacts host="[::1]:8443"]\npath_prefix = /tfs\n', encoding="utf-8")
    raw = read_config(config)
    assert raw.problems == ()
    assert [s.name for s in raw.sections] == ['artifacts host="[::1]:8443"']
