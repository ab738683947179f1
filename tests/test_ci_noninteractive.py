"""Not interactive and no silent way to a token: fail fast, one line, no prompt, no network."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts.context import is_interactive
from keyrings.azure_artifacts.credentials import chain
from keyrings.azure_artifacts.credentials.base import FlowOptions
from keyrings.azure_artifacts.testing import FakeAzure
from keyrings.azure_artifacts.testing.server import ROUTES

if TYPE_CHECKING:
    from helpers import CleanEnv, Logged

USER_FLOWS = {"broker", "interactive_browser", "device_code"}


@pytest.mark.parametrize(
    ("setting", "environ", "tty", "expected"),
    [
        ("auto", {}, True, True),
        ("auto", {}, False, False),
        ("auto", {"CI": "true"}, True, False),
        ("auto", {"CI": "1"}, True, False),
        ("auto", {"TF_BUILD": "True"}, True, False),
        ("auto", {"GITHUB_ACTIONS": "true"}, True, False),
        ("auto", {"CI": "false"}, True, True),
        ("auto", {"CI": ""}, True, True),
        ("never", {}, True, False),
        ("always", {"CI": "true"}, False, True),
    ],
)
def test_is_interactive(setting: str, environ: dict[str, str], tty: bool, expected: bool) -> None:
    assert is_interactive(setting, environ, stderr_isatty=tty) is expected


def test_auto_chain_has_no_user_flow_when_not_interactive() -> None:
    names = chain.auto_chain(FlowOptions(org="contoso", interactive=False, environ={}))
    assert not USER_FLOWS & set(names)


@pytest.mark.parametrize(("value", "expected"), [("true", "never"), ("1", "never"), ("false", "auto")])
def test_artifacts_keyring_noninteractive_mode(clean_env: CleanEnv, value: str, expected: str) -> None:
    env = clean_env.for_lookup("", ARTIFACTS_KEYRING_NONINTERACTIVE_MODE=value)
    resolution = service.resolve("https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", env)
    assert resolution is not None
    assert resolution.settings.interactive == expected
    if expected == "never":
        assert resolution.settings.sources["interactive"] == "env:ARTIFACTS_KEYRING_NONINTERACTIVE_MODE"
        assert is_interactive(resolution.settings.interactive, env, stderr_isatty=True) is False


@pytest.fixture
def hanging(fake: FakeAzure) -> FakeAzure:
    """The shared fake, every route the lookup could touch hanging for 30 s."""
    for route in ROUTES:
        fake.inject(route.name, hang=30, times=100)
    return fake


def hanging_config(fake: FakeAzure, *extra: str) -> str:
    return "\n".join(
        [f'[artifacts host="{fake.host}"]', f"authority_host = {fake.authority_host}", *extra, ""]
    )


def test_ci_lookup_without_credential_returns_fast_without_touching_the_fake(
    hanging: FakeAzure, clean_env: CleanEnv, logged: Logged
) -> None:
    env = clean_env.for_lookup(hanging_config(hanging, f"tenant = {hanging.default_tenant}"), CI="true")
    url = hanging.feed_url("contoso", "main")

    assert service.lookup(url, None, env) is None

    # Fails at once: every route of the fake would hang for 30 s, and none was asked.
    assert hanging.arrived() == 0
    [line] = logged.warnings()
    assert "'contoso'" in line and "shared_cache: no cached sign-in" in line
    assert "az login" in line and f"azure-artifacts-keyring login {url}" in line


def test_ci_lookup_without_credential_and_without_tenant_skips_discovery(
    hanging: FakeAzure, clean_env: CleanEnv, logged: Logged
) -> None:
    env = clean_env.for_lookup(hanging_config(hanging, "timeout = 0.5"), CI="true")
    assert service.lookup(hanging.feed_url("contoso", "main"), None, env) is None
    assert hanging.arrived() == 0 and len(logged.warnings()) == 1  # not even discovery (it would hang)


@pytest.mark.e2e
def test_keyring_get_in_ci_exits_non_zero_with_one_line(hanging: FakeAzure, clean_env: CleanEnv) -> None:
    config = hanging_config(hanging, f"tenant = {hanging.default_tenant}")
    env = clean_env.for_lookup(config, ca=hanging.ca_path, CI="true")
    url = hanging.feed_url("contoso", "main")

    result = subprocess.run(
        [sys.executable, "-m", "keyring", "get", url, "VssSessionToken"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,  # a hang guard only: the evidence is that the fake was never asked
        check=False,
    )

    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "'contoso'" in lines[0] and "az login" in lines[0]
    assert "device" not in lines[0].lower()
    assert hanging.arrived() == 0


def test_noninteractive_mode_variable_keeps_device_code_out_even_with_a_terminal(
    clean_env: CleanEnv,
) -> None:
    from keyrings.azure_artifacts.context import Context
    from keyrings.azure_artifacts.signin import SignIn

    env = clean_env.for_lookup("", ARTIFACTS_KEYRING_NONINTERACTIVE_MODE="true")
    resolution = service.resolve("https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", env)
    assert resolution is not None
    signin = SignIn(resolution, Context(env, stderr_isatty=True))
    options = signin.options(None, resolution.settings.authority_host)
    assert options.interactive is False
    assert not USER_FLOWS & set(signin.chain(options))


def test_no_heavy_imports_for_pass_through_flows(clean_env: CleanEnv) -> None:
    """static and azure_pipelines need neither azure.identity nor msal nor requests."""
    code = (
        "import sys\n"
        "from keyrings.azure_artifacts import service\n"
        "env = {'AZURE_DEVOPS_EXT_PAT': 'x', 'KEYRINGS_AZURE_ARTIFACTS_STATE_DIR': sys.argv[1], 'CI': '1',"
        " 'KEYRINGS_AZURE_ARTIFACTS_CONFIG': sys.argv[2]}\n"
        "assert service.lookup('https://pkgs.dev.azure.com/c/_packaging/f/pypi/simple/', None, env)[1] == 'x'\n"
        "print(sorted(m for m in ('azure.identity', 'msal', 'requests') if m in sys.modules))\n"
    )
    env = clean_env("")  # an empty config file
    result = subprocess.run(
        [sys.executable, "-c", code, str(clean_env.state_dir), env["KEYRINGS_AZURE_ARTIFACTS_CONFIG"]],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    assert result.stdout.strip() == "[]"
