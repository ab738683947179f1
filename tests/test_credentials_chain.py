"""The auto order, availability checks and chain reporting: pure, no network, no subprocess."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from keyrings.azure_artifacts.credentials import chain
from keyrings.azure_artifacts.credentials.base import AccessToken, FlowOptions
from keyrings.azure_artifacts.errors import AuthenticationFailed, ChainFailed, CredentialUnavailable

if TYPE_CHECKING:
    from helpers import CleanEnv

SP = {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s"}
CERT = {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_CERTIFICATE_PATH": "/x.pem"}
WI = {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_FEDERATED_TOKEN_FILE": "/tok"}


def _bin_with(tmp_path: Path, *names: str) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in names:
        exe = bin_dir / (name + ".cmd" if sys.platform == "win32" else name)  # found through PATHEXT there
        exe.write_text("#!/bin/sh\nexit 1\n")
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return str(bin_dir)


def opts(environ: dict[str, str] | None = None, **kw: object) -> FlowOptions:
    return FlowOptions(org="contoso", environ=environ or {"PATH": ""}, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("environ", "kw", "expected"),
    [
        ({}, {}, ["shared_cache"]),
        ({"AZURE_DEVOPS_EXT_PAT": "p"}, {}, ["static", "shared_cache"]),
        ({"MY_PAT": "p"}, {"token_env": "MY_PAT"}, ["static", "shared_cache"]),
        ({}, {"token_file": "/pat"}, ["static", "shared_cache"]),
        ({"AZURE_DEVOPS_EXT_PAT": "  "}, {}, ["shared_cache"]),
        ({"VSS_NUGET_EXTERNAL_FEED_ENDPOINTS": "{}"}, {}, ["azure_pipelines", "shared_cache"]),
        (
            {"ARTIFACTS_CREDENTIALPROVIDER_EXTERNAL_FEED_ENDPOINTS": "{}"},
            {},
            ["azure_pipelines", "shared_cache"],
        ),
        ({"VSS_NUGET_ACCESSTOKEN": "x"}, {}, ["azure_pipelines", "shared_cache"]),
        ({"SYSTEM_ACCESSTOKEN": "x"}, {}, ["shared_cache"]),
        (
            {"SYSTEM_ACCESSTOKEN": "x", "VSS_NUGET_URI_PREFIXES": "https://pkgs.dev.azure.com/contoso/"},
            {},
            ["azure_pipelines", "shared_cache"],
        ),
        (SP, {}, ["environment", "shared_cache"]),
        (CERT, {}, ["environment", "shared_cache"]),
        ({"AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s"}, {}, ["shared_cache"]),
        (
            {"AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s"},
            {"tenant": "t"},
            ["environment", "shared_cache"],
        ),
        (WI, {}, ["workload_identity", "shared_cache"]),
        (
            {"AZURE_FEDERATED_TOKEN_FILE": "/tok"},
            {"tenant": "t", "client_id": "c"},
            ["workload_identity", "shared_cache"],
        ),
        ({"AZURE_FEDERATED_TOKEN_FILE": "/tok", "AZURE_TENANT_ID": "t"}, {}, ["shared_cache"]),
        (
            {"IDENTITY_ENDPOINT": "https://x", "IDENTITY_HEADER": "h"},
            {},
            ["managed_identity", "shared_cache"],
        ),
        (
            {"IDENTITY_ENDPOINT": "https://x", "IMDS_ENDPOINT": "https://y"},
            {},
            ["managed_identity", "shared_cache"],
        ),
        ({"MSI_ENDPOINT": "https://x"}, {}, ["managed_identity", "shared_cache"]),
        ({"AZURE_POD_IDENTITY_AUTHORITY_HOST": "https://x"}, {}, ["managed_identity", "shared_cache"]),
        ({"IMDS_ENDPOINT": "https://y"}, {}, ["shared_cache"]),  # alone it would mean probing IMDS
        ({"IDENTITY_ENDPOINT": "https://x"}, {}, ["shared_cache"]),
        (
            {
                **SP,
                **WI,
                "AZURE_DEVOPS_EXT_PAT": "p",
                "VSS_NUGET_ACCESSTOKEN": "x",
                "MSI_ENDPOINT": "https://x",
            },
            {},
            [
                "static",
                "azure_pipelines",
                "environment",
                "workload_identity",
                "managed_identity",
                "shared_cache",
            ],
        ),
        ({}, {"interactive": True}, ["shared_cache", "device_code"]),
        ({"DISPLAY": ":0"}, {"interactive": True}, ["shared_cache", "interactive_browser"]),
        ({"WAYLAND_DISPLAY": "wayland-0"}, {"interactive": True}, ["shared_cache", "interactive_browser"]),
        ({"DISPLAY": ":0"}, {}, ["shared_cache"]),
    ],
)
def test_auto_chain_order(environ: dict[str, str], kw: dict[str, object], expected: list[str]) -> None:
    if sys.platform != "linux" and any(n in expected for n in ("interactive_browser", "device_code")):
        pytest.skip("browser heuristic is Linux-specific")
    assert chain.auto_chain(opts({"PATH": "", **environ}, **kw)) == expected


def test_auto_chain_cli_on_path(tmp_path: Path) -> None:
    path = _bin_with(tmp_path, "az", "azd", "pwsh")
    names = chain.auto_chain(opts({"PATH": path, **SP}))
    # azd and PowerShell are only used when named explicitly; our own cached sign-in comes before
    # the CLIs, as in DefaultAzureCredential.
    assert names == ["environment", "shared_cache", "azure_cli"]
    assert chain.unavailable_reason("azure_developer_cli", opts({"PATH": path})) is None
    assert chain.unavailable_reason("azure_powershell", opts({"PATH": path})) is None
    assert chain.unavailable_reason("azure_cli", opts({"PATH": ""})) == "`az` is not on PATH"


def test_all_names_are_buildable() -> None:
    assert chain.ALL_NAMES[0] == "static" and chain.ALL_NAMES[-1] == "device_code"
    for name in chain.ALL_NAMES:
        flow = chain.build_flow(name, opts())
        assert flow.name == name
    with pytest.raises(ValueError, match="unknown credential"):
        chain.build_flow("kerberos", opts())


class _Flow:
    def __init__(self, name: str, outcome: object) -> None:
        self.name = name
        self.outcome = outcome
        self.calls = 0

    def get_token(self, scope: str) -> AccessToken:
        self.calls += 1
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        assert isinstance(self.outcome, AccessToken)
        return self.outcome


def test_chain_skips_unavailable_and_returns_first_token() -> None:
    token = AccessToken("tok", 123)
    flows = [_Flow("a", CredentialUnavailable("no")), _Flow("b", token), _Flow("c", token)]
    assert chain.ChainedFlow(flows, "contoso").get_token("s") is token
    assert [f.calls for f in flows] == [1, 1, 0]


def test_chain_stops_on_failure_and_lists_attempts() -> None:
    flows = [
        _Flow("environment", CredentialUnavailable("AZURE_CLIENT_ID is not set")),
        _Flow("azure_cli", AuthenticationFailed("AADSTS70043: expired\nsecond line")),
        _Flow("shared_cache", AccessToken("tok", 1)),
    ]
    with pytest.raises(ChainFailed) as info:
        chain.ChainedFlow(flows, "contoso").get_token("s")
    err = info.value
    assert err.attempts == [
        ("environment", "AZURE_CLIENT_ID is not set"),
        ("azure_cli", "AADSTS70043: expired"),
    ]
    assert flows[2].calls == 0
    assert not err.exhausted
    assert "\n" not in str(err)
    assert "'contoso'" in str(err) and "az login" in str(err)


def test_chain_failure_message_when_nothing_available(outside_calls: list[str]) -> None:
    options = opts(
        {"PATH": "", "CI": "true"}, service_url="https://pkgs.dev.azure.com/contoso/_packaging/f/pypi/simple/"
    )
    names = chain.auto_chain(options)
    fix = chain.fix_hint(options.service_url)
    with pytest.raises(ChainFailed) as info:
        chain.ChainedFlow([chain.build_flow(n, options) for n in names], "contoso", fix=fix).get_token("s")
    assert outside_calls == []  # fails at once: no connection, no program started
    assert info.value.exhausted
    message = str(info.value)
    assert message == (
        "no credential for Azure DevOps organization 'contoso' (shared_cache: no state directory for a "
        "token cache). Run `az login`, or `azure-artifacts-keyring login "
        "https://pkgs.dev.azure.com/contoso/_packaging/f/pypi/simple/` in a terminal"
    )


def test_chain_unexpected_error_is_reported_without_its_text() -> None:
    flows = [_Flow("azure_cli", RuntimeError("secret-ish detail"))]
    with pytest.raises(ChainFailed) as info:
        chain.ChainedFlow(flows, "contoso").get_token("s")
    assert "secret-ish" not in str(info.value)
    assert "unexpected RuntimeError" in str(info.value)


def test_non_interactive_chain_with_empty_state_is_fast(tmp_path: Path, outside_calls: list[str]) -> None:
    options = opts({"PATH": ""}, state_dir=tmp_path)
    flows = [chain.build_flow(n, options) for n in chain.ALL_NAMES if n not in ("static", "azure_pipelines")]
    with pytest.raises(ChainFailed) as info:
        chain.ChainedFlow(flows, "contoso").get_token("s")
    assert outside_calls == []  # fails at once: no connection, no program started
    reasons = dict(info.value.attempts)
    assert reasons["managed_identity"].startswith("no managed identity endpoint")
    assert reasons["shared_cache"] == "no cached sign-in"
    assert reasons["device_code"] == "not interactive"
    assert not (tmp_path / "msal_token_cache.bin").exists()


def test_describe_chain_runs_nothing() -> None:
    lines = chain.describe_chain(["environment", "managed_identity", "shared_cache"], opts(SP))
    assert lines == [
        "environment: would be tried",
        "managed_identity: skipped, no managed identity endpoint variable is set (IMDS is not probed)",
        "shared_cache: skipped, no state directory for a token cache",
    ]


def test_managed_identity_refuses_when_process_env_differs(monkeypatch: pytest.MonkeyPatch) -> None:
    from keyrings.azure_artifacts.credentials.managed_identity import ManagedIdentityFlow

    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST"):
        monkeypatch.delenv(name, raising=False)
    flow = ManagedIdentityFlow(opts({"IDENTITY_ENDPOINT": "https://127.0.0.1:1/msi", "IDENTITY_HEADER": "h"}))
    with pytest.raises(CredentialUnavailable, match="differ from the process environment"):
        flow.get_token("s")
    assert os.environ.get("IDENTITY_ENDPOINT") is None


@pytest.mark.parametrize("name", ["azure_cli", "azure_developer_cli", "azure_powershell"])
def test_a_cli_flow_without_its_executable_passes_without_running_anything(name: str) -> None:
    with pytest.raises(CredentialUnavailable, match="is not on PATH"):
        chain.build_flow(name, opts({"PATH": ""})).get_token("499b84ac-1321-427f-aa17-267ca6975798/.default")


@pytest.mark.parametrize(
    ("credential", "allowed"),
    [
        ("auto", False),
        ("azure_cli, shared_cache", False),
        ("managed_identity", True),
        ("azure_cli, managed_identity", True),
    ],
)
def test_imds_only_when_the_config_names_managed_identity(
    clean_env: CleanEnv, credential: str, allowed: bool
) -> None:
    """`auto` never probes IMDS; an explicit `credential = managed_identity` (an Azure VM) may."""
    from keyrings.azure_artifacts import service
    from keyrings.azure_artifacts.context import Context
    from keyrings.azure_artifacts.signin import SignIn

    env = clean_env.for_lookup(f"[artifacts]\ncredential = {credential}\n", PATH="")
    resolution = service.resolve("https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", env)
    assert resolution is not None and not resolution.errors
    options = SignIn(resolution, Context(env)).options(None, "https://login.microsoftonline.com")
    assert options.allow_imds is allowed
    reason = chain.unavailable_reason("managed_identity", options)
    assert (reason is None) is allowed
    assert "managed_identity" not in chain.auto_chain(options)
