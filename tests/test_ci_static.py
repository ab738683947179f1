"""`credential = static`: a PAT or token from token_file or an environment variable, returned as is."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts.credentials import chain
from keyrings.azure_artifacts.credentials.base import FlowOptions
from keyrings.azure_artifacts.credentials.static import too_open
from keyrings.azure_artifacts.errors import AuthenticationFailed, CredentialUnavailable
from keyrings.azure_artifacts.microsoft import ADO_SCOPE

if TYPE_CHECKING:
    from helpers import CleanEnv, Logged

PAT = "p" * 52
URL = "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"


def token(**kw: object) -> str:
    options = FlowOptions(org="contoso", **kw)  # type: ignore[arg-type]
    return chain.build_flow("static", options).get_token(ADO_SCOPE).token


def test_default_variable_is_azure_devops_ext_pat() -> None:
    assert token(environ={"AZURE_DEVOPS_EXT_PAT": f"  {PAT}\n"}) == PAT


def test_token_env_names_another_variable_and_wins() -> None:
    env = {"MY_PAT": "mine", "AZURE_DEVOPS_EXT_PAT": "cli"}
    assert token(environ=env, token_env="MY_PAT") == "mine"
    # The configured variable unset: the Azure CLI's variable still counts.
    assert token(environ={"AZURE_DEVOPS_EXT_PAT": "cli"}, token_env="MY_PAT") == "cli"


def test_nothing_configured_is_unavailable_and_not_in_the_auto_chain() -> None:
    options = FlowOptions(org="contoso", environ={"AZURE_DEVOPS_EXT_PAT": "  "})
    with pytest.raises(CredentialUnavailable, match="AZURE_DEVOPS_EXT_PAT is not set"):
        chain.build_flow("static", options).get_token(ADO_SCOPE)
    assert "static" not in chain.auto_chain(options)
    assert chain.auto_chain(FlowOptions(org="contoso", environ={"AZURE_DEVOPS_EXT_PAT": PAT}))[0] == "static"


def test_token_file_is_read_and_stripped(tmp_path: Path, logged: Logged) -> None:
    path = tmp_path / "pat"
    path.write_text(f"\ufeff{PAT}\r\n", encoding="utf-8")
    path.chmod(0o600)
    # The file wins over the variable: it was configured explicitly.
    assert token(token_file=str(path), environ={"AZURE_DEVOPS_EXT_PAT": "other"}) == PAT
    assert logged.warnings() == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_token_file_open_to_others_is_used_with_one_warning(tmp_path: Path, logged: Logged) -> None:
    path = tmp_path / "pat"
    path.write_text(PAT, encoding="utf-8")
    path.chmod(0o644)
    assert token(token_file=str(path)) == PAT
    [warning] = logged.warnings()
    assert "chmod 600" in warning and "644" in warning and PAT not in warning


@pytest.mark.parametrize(("mode", "open_"), [(0o600, False), (0o400, False), (0o640, True), (0o604, True)])
def test_too_open(mode: int, open_: bool) -> None:
    assert too_open(0o100000 | mode) is open_


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "does not exist"),
        ("", "is empty"),
        ("  \n", "is empty"),
        (f"{PAT}\n{PAT}\n", "more than one line"),
    ],
)
def test_token_file_problems_stop_the_chain_without_showing_content(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "pat"
    if content is not None:
        path.write_text(content, encoding="utf-8")
        path.chmod(0o600)
    with pytest.raises(AuthenticationFailed, match=problem) as info:
        token(token_file=str(path), environ={"AZURE_DEVOPS_EXT_PAT": "fallback"})
    assert PAT not in str(info.value) and str(path) in str(info.value)


def test_token_file_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(AuthenticationFailed, match="not a regular file"):
        token(token_file=str(tmp_path))


def test_lookup_returns_the_pat_as_is_for_a_pat_file(tmp_path: Path, clean_env: CleanEnv) -> None:
    path = tmp_path / "pat"
    path.write_text(PAT + "\n", encoding="utf-8")
    path.chmod(0o600)
    env = clean_env.for_lookup(f"[artifacts]\ncredential = static\ntoken_file = {path}\n")
    assert service.lookup(URL, None, env) == ("VssSessionToken", PAT)
    assert service.lookup(URL, "me", env) == ("me", PAT)


def test_lookup_with_token_env_in_a_feed_section(clean_env: CleanEnv) -> None:
    config = '[artifacts org="contoso" feed="main"]\ncredential = static\ntoken_env = FEED_PAT\n'
    env = clean_env.for_lookup(config, FEED_PAT="feed-secret", CI="true")
    assert service.lookup(URL, None, env) == ("VssSessionToken", "feed-secret")


def test_auto_chain_uses_azure_devops_ext_pat_without_any_config(clean_env: CleanEnv) -> None:
    env = clean_env.for_lookup("", AZURE_DEVOPS_EXT_PAT=PAT, CI="true")
    assert service.lookup(URL, None, env) == ("VssSessionToken", PAT)
