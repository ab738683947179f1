"""Every example folder is a valid configuration that says what its README claims."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import tomllib

if TYPE_CHECKING:
    from helpers import CleanEnv

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCENARIOS = (
    "tenant-pinning",
    "mixed-auth",
    "azure-devops-server",
    "uv-project",
    "poetry-project",
    "pdm-project",
    "devcontainer-wsl",
    "azure-vm",
)


def cli(clean_env: CleanEnv, *args: str, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "keyrings.azure_artifacts", *args],
        env=clean_env(KEYRINGS_AZURE_ARTIFACTS_CONFIG=str(config)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_example_config_is_valid(scenario: str, clean_env: CleanEnv) -> None:
    config = EXAMPLES / scenario / "keyringrc.cfg"
    result = cli(clean_env, "check", "--config", str(config), config=config)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (EXAMPLES / scenario / "README.md").is_file()


@pytest.mark.parametrize("scenario", ["uv-project", "poetry-project", "pdm-project"])
def test_example_pyproject_parses(scenario: str) -> None:
    data = tomllib.loads((EXAMPLES / scenario / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["project"]["name"]


def test_uv_example_has_what_uv_needs() -> None:
    """A username in the index URL, authenticate = "always" and the subprocess provider."""
    data = tomllib.loads((EXAMPLES / "uv-project" / "pyproject.toml").read_text(encoding="utf-8"))
    [index] = data["tool"]["uv"]["index"]
    assert index["url"].startswith("https://VssSessionToken@")
    assert index["authenticate"] == "always"
    assert data["tool"]["uv"]["keyring-provider"] == "subprocess"


def explain(clean_env: CleanEnv, scenario: str, url: str) -> dict:  # type: ignore[type-arg]
    result = cli(clean_env, "explain", url, "--json", config=EXAMPLES / scenario / "keyringrc.cfg")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_tenant_pinning_gives_each_org_its_tenant(clean_env: CleanEnv) -> None:
    guest = explain(
        clean_env,
        "tenant-pinning",
        "https://pkgs.dev.azure.com/fabrikam/platform/_packaging/common/pypi/simple/",
    )
    home = explain(
        clean_env, "tenant-pinning", "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"
    )
    assert guest["settings"]["tenant"] == {
        "value": "3c7e1a2b-5d4f-4e6a-9b8c-0d1e2f3a4b5c",
        "from": 'artifacts org="fabrikam"',
    }
    assert home["settings"]["tenant"]["value"] == "contoso.onmicrosoft.com"


@pytest.mark.parametrize(
    ("url", "auth"),
    [
        ("https://pkgs.dev.azure.com/contoso/_packaging/release/pypi/simple/", "pat"),
        ("https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", "session"),
        ("https://pkgs.dev.azure.com/fabrikam/_packaging/tools/pypi/simple/", "bearer"),
    ],
)
def test_mixed_auth_per_feed(url: str, auth: str, clean_env: CleanEnv) -> None:
    assert explain(clean_env, "mixed-auth", url)["settings"]["auth"]["value"] == auth


def test_server_example_matches_the_collection_urls(clean_env: CleanEnv) -> None:
    found = explain(
        clean_env,
        "azure-devops-server",
        "https://devops.contoso.local/tfs/DefaultCollection/_packaging/main/pypi/simple/",
    )
    assert found["ours"] is True
    assert found["url"]["org"] == "DefaultCollection"
    assert found["chain"] == ["static"]
