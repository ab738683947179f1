"""The command line reads well in the first hour: pipes, help text, check's messages, setup."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import run_cli

if TYPE_CHECKING:
    from conftest import CleanEnv

BIN = Path(sys.executable).parent
FEED = "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"


def cli(env: dict[str, str], *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "azure-artifacts-keyring"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        **kwargs,
    )  # type: ignore[call-overload]


def test_explain_into_head_exits_quietly(clean_env: CleanEnv) -> None:
    """The reader is gone before anything is written (what `| head -1` does to a longer output)."""
    env = clean_env.for_lookup("")
    proc = subprocess.Popen(
        [str(BIN / "azure-artifacts-keyring"), "explain", FEED],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    proc.wait(timeout=60)
    err = proc.stderr.read()
    proc.stderr.close()
    assert err == ""


def test_json_help_reads_the_same_on_every_command(clean_env: CleanEnv) -> None:
    env = clean_env(COLUMNS="200")
    seen = set()
    for command in ("explain", "doctor", "status", "token"):
        out = cli(env, command, "--help").stdout
        (line,) = [line.strip() for line in out.splitlines() if line.strip().startswith("--json")]
        seen.add(" ".join(line.split()))
    assert len(seen) == 1, seen


def test_setup_help_keeps_urls_whole(clean_env: CleanEnv) -> None:
    out = cli(clean_env(COLUMNS="60"), "setup", "--help").stdout
    urls = re.findall(r"https://\S+", out)
    assert "https://pkgs.dev.azure.com/ORG/_packaging/FEED/pypi/simple/" in urls, out


def test_check_messages_read_naturally(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> None:
    path = cli_env.config_path
    path.write_text("[artifacts]\ntimeout = 20\n")
    code, out, _ = run_cli(capsys, "check", "--config", str(path))
    assert code == 0 and "(1 artifacts section;" in out
    path.write_text("[artifacts]\ntimeout = 900\nscopes = vso.packging\n")
    code, out, _ = run_cli(capsys, "check", "--config", str(path))
    assert code == 1
    assert "timeout: must be more than 0 and at most 600 seconds" in out
    assert "scopes: 'vso.packging' is not an Azure DevOps scope (did you mean 'vso.packaging'?)" in out
    path.write_text("[artifacts]\nscopes = vso.packaging vso.code_write\n")
    assert run_cli(capsys, "check", "--config", str(path))[0] == 0


@pytest.mark.parametrize("tool", ["poetry", "pdm", "hatch"])
def test_setup_outside_a_project_does_not_suggest_file_where_it_is_refused(
    tool: str,
    cli_env: CleanEnv,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outside = tmp_path / "nowhere"
    outside.mkdir()
    monkeypatch.chdir(outside)
    code, _out, err = run_cli(capsys, "setup", FEED, "--tool", tool, "--dry-run")
    assert code == 1
    assert "pyproject.toml" in err and "--file" not in err, err
    code, _out, err = run_cli(capsys, "setup", FEED, "--tool", tool, "--file", str(outside / "x.toml"))
    assert code == 2 and f"--file is for pip, uv and twine ({tool}" in err
