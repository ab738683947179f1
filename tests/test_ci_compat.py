"""Every compatibility variable of artifacts-keyring and friends is honoured."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts.config.resolve import Resolution
from keyrings.azure_artifacts.credentials import chain
from keyrings.azure_artifacts.credentials.base import FlowOptions

if TYPE_CHECKING:
    from helpers import CleanEnv

URL = "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"


def resolve(clean_env: CleanEnv, config: str = "", **env: str) -> Resolution:
    resolution = service.resolve(URL, clean_env.for_lookup(config, **env))
    assert resolution is not None
    return resolution


@pytest.mark.parametrize(
    ("variable", "value", "option", "expected"),
    [
        ("KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN", "true", "auth", "bearer"),
        ("KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN", "false", "auth", "pat"),
        ("AZURE_DEVOPS_PAT_DURATION", "90", "pat_duration", 90 * 86400),
        ("AZURE_DEVOPS_PAT_SCOPE", "vso.packaging_write", "scopes", ["vso.packaging_write"]),
        ("ARTIFACTS_KEYRING_NONINTERACTIVE_MODE", "true", "interactive", "never"),
        (
            "AZURE_AUTHORITY_HOST",
            "https://login.microsoftonline.us",
            "authority_host",
            "https://login.microsoftonline.us",
        ),
    ],
)
def test_variable_sets_the_option_below_the_config(
    clean_env: CleanEnv, variable: str, value: str, option: str, expected: Any
) -> None:
    settings = resolve(clean_env, **{variable: value}).settings
    actual = getattr(settings, option)
    assert (list(actual) if option == "scopes" else actual) == expected
    assert settings.sources[option] == f"env:{variable}"


def test_config_wins_over_the_variables(clean_env: CleanEnv) -> None:
    settings = resolve(
        clean_env, "[artifacts]\nauth = session\n", KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN="true"
    ).settings
    assert (settings.auth, settings.sources["auth"]) == ("session", "artifacts")


def test_bad_variable_value_is_reported_not_guessed(clean_env: CleanEnv) -> None:
    resolution = resolve(clean_env, AZURE_DEVOPS_PAT_DURATION="forever")
    assert resolution.settings.sources["pat_duration"] == "default"
    assert any("AZURE_DEVOPS_PAT_DURATION" in e for e in resolution.errors)


@pytest.mark.parametrize(
    ("environ", "first"),
    [
        ({"AZURE_DEVOPS_EXT_PAT": "x"}, "static"),
        ({"VSS_NUGET_EXTERNAL_FEED_ENDPOINTS": '{"endpointCredentials": []}'}, "azure_pipelines"),
        (
            {"ARTIFACTS_CREDENTIALPROVIDER_EXTERNAL_FEED_ENDPOINTS": '{"endpointCredentials": []}'},
            "azure_pipelines",
        ),
        ({"VSS_NUGET_ACCESSTOKEN": "x", "VSS_NUGET_URI_PREFIXES": URL}, "azure_pipelines"),
        ({"SYSTEM_ACCESSTOKEN": "x", "VSS_NUGET_URI_PREFIXES": URL}, "azure_pipelines"),
        ({"AZURE_CLIENT_ID": "a", "AZURE_TENANT_ID": "t", "AZURE_CLIENT_SECRET": "s"}, "environment"),
        (
            {"AZURE_CLIENT_ID": "a", "AZURE_TENANT_ID": "t", "AZURE_FEDERATED_TOKEN_FILE": "/f"},
            "workload_identity",
        ),
        (
            {
                "AZURE_CLIENT_ID": "a",
                "AZURE_TENANT_ID": "t",
                "ACTIONS_ID_TOKEN_REQUEST_URL": "https://x/",
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "r",
            },
            "workload_identity",
        ),
    ],
)
def test_credential_variables_put_their_flow_first_in_the_auto_chain(
    environ: dict[str, str], first: str
) -> None:
    options = FlowOptions(org="contoso", environ={"PATH": os.defpath, **environ}, service_url=URL)
    assert chain.auto_chain(options)[0] == first


def test_managed_identity_only_with_its_endpoint_variable() -> None:
    options = FlowOptions(org="contoso", environ={"PATH": os.defpath})
    assert "managed_identity" not in chain.auto_chain(options)


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("example", ["azure-pipelines", "github-actions", "service-principal"])
def test_example_configs_are_valid(example: str, capsys: pytest.CaptureFixture[str]) -> None:
    from keyrings.azure_artifacts.cli import main

    path = EXAMPLES / example / "keyringrc.cfg"
    assert path.is_file()
    assert main(["check", "--config", str(path)]) == 0, capsys.readouterr()
    assert (EXAMPLES / example / "README.md").is_file()
