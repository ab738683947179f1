"""`credential = azure_pipelines`: endpoint JSON and the job access token, matched on the requested URL."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts.credentials import chain
from keyrings.azure_artifacts.credentials.azure_pipelines import (
    Endpoint,
    best_endpoint,
    normalize_url,
    parse_endpoints,
)
from keyrings.azure_artifacts.credentials.base import AccessToken, FlowOptions
from keyrings.azure_artifacts.errors import ChainFailed, CredentialUnavailable
from keyrings.azure_artifacts.microsoft import ADO_SCOPE

if TYPE_CHECKING:
    from helpers import CleanEnv

URL = "https://pkgs.dev.azure.com/Contoso/_packaging/Main/pypi/simple/"
LEGACY = "VSS_NUGET_EXTERNAL_FEED_ENDPOINTS"
NEW = "ARTIFACTS_CREDENTIALPROVIDER_EXTERNAL_FEED_ENDPOINTS"


def endpoints_json(*entries: tuple[str, str]) -> str:
    return json.dumps(
        {"endpointCredentials": [{"endpoint": e, "username": "build", "password": p} for e, p in entries]}
    )


def get(environ: dict[str, str], url: str = URL) -> AccessToken:
    options = FlowOptions(org="contoso", environ=environ, service_url=url)
    return chain.build_flow("azure_pipelines", options).get_token(ADO_SCOPE)


@pytest.mark.parametrize(
    ("endpoint", "matches"),
    [
        ("https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", True),
        ("HTTPS://PKGS.DEV.AZURE.COM/CONTOSO/_PACKAGING/MAIN/PYPI/SIMPLE/", True),
        ("https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple", True),
        ("https://pkgs.dev.azure.com/contoso/", True),
        ("https://pkgs.dev.azure.com/contoso", True),
        ("https://pkgs.dev.azure.com:443/contoso/", True),
        ("https://user@pkgs.dev.azure.com/contoso/", True),
        ("https://pkgs.dev.azure.com", True),
        ("https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/demo/", False),
        ("https://pkgs.dev.azure.com/cont", False),
        ("https://pkgs.dev.azure.com/contoso/_packaging/other/", False),
        ("https://pkgs.dev.azure.co", False),
        ("https://pkgs.dev.azure.com.evil.io/contoso/", False),
        ("http://pkgs.dev.azure.com/contoso/", False),
        ("https://pkgs.dev.azure.com:8443/contoso/", False),
    ],
)
def test_endpoint_matches_case_insensitively_by_prefix_on_a_boundary(endpoint: str, matches: bool) -> None:
    found = best_endpoint([Endpoint(endpoint, "u", "secret")], URL)
    assert (found is not None) is matches


def test_longest_matching_endpoint_wins_whatever_the_order() -> None:
    entries = [
        ("https://pkgs.dev.azure.com/contoso/", "org-wide"),
        ("https://PKGS.dev.azure.com/contoso/_packaging/MAIN/", "feed"),
        ("https://pkgs.dev.azure.com/", "host"),
    ]
    for order in (entries, entries[::-1]):
        assert get({LEGACY: endpoints_json(*order)}).token == "feed"
    assert get({LEGACY: endpoints_json(*entries)}, URL.replace("Main", "other")).token == "org-wide"


def test_username_travels_with_the_password() -> None:
    token = get({LEGACY: endpoints_json(("https://pkgs.dev.azure.com/contoso/", "pw"))})
    assert (token.token, token.username) == ("pw", "build")
    assert "pw" not in repr(token)


def test_feed_view_and_userinfo_and_scheme_less_urls() -> None:
    env = {LEGACY: endpoints_json(("https://pkgs.dev.azure.com/contoso/_packaging/main", "pw"))}
    assert get(env, URL.replace("Main", "Main@Release")).token == "pw"
    assert get(env, URL.replace("https://", "https://VssSessionToken@")).token == "pw"
    assert get(env, URL.replace("https://", "")).token == "pw"


def test_the_current_name_wins_and_the_legacy_one_is_then_not_read() -> None:
    """artifacts-credprovider README: "When both a new (preferred) environment variable and its
    legacy equivalent are set, the new variable takes precedence" (EnvUtil reads the legacy name
    only when the new one is blank)."""
    env = {
        NEW: endpoints_json(("https://pkgs.dev.azure.com/contoso/", "new")),
        LEGACY: endpoints_json(("https://pkgs.dev.azure.com/fabrikam/", "legacy")),
    }
    assert get(env).token == "new"
    with pytest.raises(CredentialUnavailable, match=f"no endpoint in {NEW}"):
        get(env, "https://pkgs.dev.azure.com/fabrikam/_packaging/f/pypi/simple/")
    assert (
        get({**env, NEW: " "}, "https://pkgs.dev.azure.com/fabrikam/_packaging/f/pypi/simple/").token
        == "legacy"
    )


def test_no_endpoint_for_the_url_is_unavailable_naming_it() -> None:
    env = {LEGACY: endpoints_json(("https://pkgs.dev.azure.com/fabrikam/", "secret-pw"))}
    with pytest.raises(CredentialUnavailable) as info:
        get(env)
    message = str(info.value)
    assert f"no endpoint in {LEGACY} for pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/" in message
    assert "secret-pw" not in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"endpointCredentials": [', "is not valid JSON"),
        ("not json at all", "is not valid JSON"),
        ('["a"]', "must be a JSON object"),
        ('{"endpointCredentials": {}}', "must be a list"),
        ('{"endpointCredentials": [{"username": "u", "password": "p4ss"}]}', "'endpoint' is missing"),
        ('{"endpointCredentials": [{"endpoint": "https://x/", "password": 5}]}', "'password' is missing"),
        ('{"endpointCredentials": [7]}', "must be an object"),
    ],
)
def test_malformed_endpoint_json_is_one_clear_error(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as info:
        parse_endpoints(text, LEGACY)
    message = str(info.value)
    assert message.startswith(LEGACY) and "\n" not in message and "p4ss" not in message
    with pytest.raises(CredentialUnavailable, match=problem):
        get({LEGACY: text})


def test_any_capitalisation_of_the_keys_is_accepted() -> None:
    text = '{"EndpointCredentials": [{"Endpoint": "https://pkgs.dev.azure.com/contoso", "Password": "pw"}]}'
    token = get({LEGACY: text})
    assert (token.token, token.username) == ("pw", None)


def test_malformed_json_does_not_hide_a_matching_job_token() -> None:
    env = {
        LEGACY: "{",
        "VSS_NUGET_ACCESSTOKEN": "job",
        "VSS_NUGET_URI_PREFIXES": "https://pkgs.dev.azure.com/contoso/",
    }
    assert get(env).token == "job"


@pytest.mark.parametrize("variable", ["VSS_NUGET_ACCESSTOKEN", "SYSTEM_ACCESSTOKEN"])
def test_job_token_applies_under_the_uri_prefixes(variable: str) -> None:
    prefixes = "https://contoso.pkgs.visualstudio.com/; HTTPS://pkgs.dev.azure.com/CONTOSO/ ;"
    env = {variable: "job-token", "VSS_NUGET_URI_PREFIXES": prefixes}
    token = get(env)
    assert (token.token, token.username) == ("job-token", "VssSessionToken")
    assert get(env, "https://contoso.pkgs.visualstudio.com/_packaging/main/pypi/simple/").token == "job-token"
    with pytest.raises(CredentialUnavailable, match="is not under VSS_NUGET_URI_PREFIXES"):
        get(env, "https://pkgs.dev.azure.com/fabrikam/_packaging/main/pypi/simple/")
    with pytest.raises(CredentialUnavailable, match="is not under"):
        get(env, "https://pkgs.dev.azure.com/contosoevil/_packaging/main/pypi/simple/")


def test_job_token_without_prefixes_goes_nowhere() -> None:
    with pytest.raises(
        CredentialUnavailable,
        match="VSS_NUGET_ACCESSTOKEN is set but neither of ARTIFACTS_CREDENTIALPROVIDER_URI_PREFIXES, VSS_NUGET_URI_PREFIXES is",
    ):
        get({"VSS_NUGET_ACCESSTOKEN": "job-token"})


def test_vss_nuget_accesstoken_wins_over_system_accesstoken() -> None:
    env = {
        "SYSTEM_ACCESSTOKEN": "system",
        "VSS_NUGET_ACCESSTOKEN": "nuget",
        "VSS_NUGET_URI_PREFIXES": "https://pkgs.dev.azure.com/contoso/",
    }
    assert get(env).token == "nuget"


def test_endpoint_wins_over_job_token() -> None:
    env = {
        LEGACY: endpoints_json(("https://pkgs.dev.azure.com/contoso/", "endpoint")),
        "SYSTEM_ACCESSTOKEN": "system",
        "VSS_NUGET_URI_PREFIXES": "https://pkgs.dev.azure.com/contoso/",
    }
    assert get(env).token == "endpoint"


def test_auto_chain_and_explain() -> None:
    env = {LEGACY: endpoints_json(("https://pkgs.dev.azure.com/fabrikam/", "pw"))}
    options = FlowOptions(org="contoso", environ=env, service_url=URL)
    assert chain.auto_chain(options)[0] == "azure_pipelines"
    assert chain.describe_chain(["azure_pipelines"], options) == [
        f"azure_pipelines: skipped, no endpoint in {LEGACY} for pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"
    ]
    assert chain.auto_chain(FlowOptions(org="contoso", environ={"SYSTEM_ACCESSTOKEN": "x"}))[:1] != [
        "azure_pipelines"
    ]


def test_normalize_url() -> None:
    assert normalize_url("u:p@PKGS.dev.azure.com:443/Org/X?q=1#f") == "https://pkgs.dev.azure.com/org/x"
    assert normalize_url("https://[::1]:8080/a") == "https://[::1]:8080/a"


def lookup_env(clean_env: CleanEnv, config: str = "", **env: str) -> dict[str, str]:
    """A clean environment inside an Azure Pipelines job."""
    return clean_env.for_lookup(config, TF_BUILD="True", **env)


def test_lookup_passes_the_endpoint_password_through(clean_env: CleanEnv) -> None:
    env = lookup_env(clean_env, **{LEGACY: endpoints_json(("https://pkgs.dev.azure.com/contoso/", "pw"))})
    found = service.lookup(URL, None, env)
    assert found is not None and found[1] == "pw"
    assert not (clean_env.state_dir / "secrets").exists() or not any(
        (clean_env.state_dir / "secrets").iterdir()
    )


def test_lookup_hands_back_the_endpoint_username_unless_the_caller_gave_one(clean_env: CleanEnv) -> None:
    env = lookup_env(clean_env, **{LEGACY: endpoints_json(("https://pkgs.dev.azure.com/contoso/", "pw"))})
    assert service.lookup(URL, None, env) == ("build", "pw")
    assert service.lookup(URL, "me", env) == ("me", "pw")


def test_lookup_with_only_malformed_json_fails_with_one_line(clean_env: CleanEnv) -> None:
    from keyrings.azure_artifacts.context import Context
    from keyrings.azure_artifacts.lookup import obtain

    config = "[artifacts]\ncredential = azure_pipelines\n"
    env = lookup_env(clean_env, config, **{LEGACY: '{"endpointCredentials": [{"endpoint": "x", "password": '})
    resolution = service.resolve(URL, env)
    assert resolution is not None
    with pytest.raises(ChainFailed) as info:
        obtain(resolution, Context(env, stderr_isatty=False))
    message = str(info.value)
    assert "\n" not in message
    assert f"azure_pipelines: {LEGACY} is not valid JSON" in message
    assert service.lookup(URL, None, env) is None
