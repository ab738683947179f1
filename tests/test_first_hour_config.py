"""A configuration that cannot be read is always reported, by every way in: `keyring get` (one
line on stderr), `token`, `explain`, `doctor` and `check`; problems in sections for other feeds
only warn; `check` and `explain` agree on layered settings; URL typos get a did-you-mean."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import run_cli

if TYPE_CHECKING:
    from conftest import CleanEnv

BIN = Path(sys.executable).parent
HOST = "devops.example.com"
HOST_FEED = f"https://{HOST}/contoso/_packaging/main/pypi/simple/"
FEED = "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"
HOST_SECTION = f'[artifacts host="{HOST}"]\ntoken_env = MY_PAT\n'


def keyring_get(env: dict[str, str], url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "keyring"), "get", url, "VssSessionToken"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


BROKEN = {
    "duplicate section": (HOST_SECTION + "[other]\nx = 1\n" + HOST_SECTION, "line 5: section ["),
    "unclosed header": (f'[artifacts host="{HOST}"\ntoken_env = MY_PAT\n', "line 1: section header"),
    "bad encoding": (HOST_SECTION + "# caf\xe9\n", "line 3 (byte "),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_file_that_cannot_be_parsed_is_reported_by_every_way_in(
    kind: str,
    clean_env: CleanEnv,
    cli_env: CleanEnv,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text, where = BROKEN[kind]
    env = clean_env.for_lookup("", MY_PAT="pat-1")
    clean_env.config_path.write_bytes(text.encode("latin-1"))
    for url in (HOST_FEED, FEED):
        got = keyring_get(env, url)
        assert got.returncode == 1 and got.stdout == ""
        lines = got.stderr.strip().splitlines()
        assert len(lines) == 1 and str(clean_env.config_path) in lines[0] and where in lines[0], got.stderr
        assert "Traceback" not in got.stderr
    assert keyring_get(env, "https://pypi.org/simple/").stderr == ""  # not ours, not named: silent

    monkeypatch.setenv("KEYRINGS_AZURE_ARTIFACTS_CONFIG", str(clean_env.config_path))
    code, out, err = run_cli(capsys, "token", HOST_FEED)
    assert code == 1 and out == "" and where in err and "not an Azure Artifacts feed" not in err
    code, out, _ = run_cli(capsys, "explain", HOST_FEED)
    assert code == 1 and where in out
    code, out, _ = run_cli(capsys, "doctor", "--json", HOST_FEED)
    steps = {s["name"]: s for s in json.loads(out)["steps"]}
    assert [s for s in steps][:2] == ["config", "url"]
    assert steps["config"]["status"] == "failed" and where in steps["config"]["detail"]
    assert "host" not in steps["url"]["fix"] or "[artifacts host" not in steps["url"]["fix"]
    code, out, _ = run_cli(capsys, "check")
    assert code == 1 and where in out and "[?]" not in out


def test_problems_in_sections_for_other_feeds_only_warn(clean_env: CleanEnv) -> None:
    config = '[artifacts org="fabrikam"]\nauht = pat\n[artifact org="contoso"]\nauth = pat\n'
    env = clean_env.for_lookup(config, AZURE_DEVOPS_EXT_PAT="pat-1")
    got = keyring_get(env, FEED)
    assert (got.returncode, got.stdout.strip()) == (0, "pat-1"), got.stderr
    assert "auht" in got.stderr and "did you mean 'auth'" in got.stderr and "+1 more" in got.stderr
    fabrikam = keyring_get(env, FEED.replace("contoso", "fabrikam"))
    assert fabrikam.returncode == 1 and "auht" in fabrikam.stderr
    checked = subprocess.run(
        [str(BIN / "azure-artifacts-keyring"), "check"], env=env, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 1
    assert 'did you mean [artifacts org="contoso"]' in checked.stdout, checked.stdout


def test_a_missing_file_named_by_the_variable_is_reported_by_lookups(
    clean_env: CleanEnv, tmp_path: Path
) -> None:
    env = clean_env.for_lookup(
        AZURE_DEVOPS_EXT_PAT="pat-1", KEYRINGS_AZURE_ARTIFACTS_CONFIG=str(tmp_path / "typo.cfg")
    )
    got = keyring_get(env, FEED)
    assert got.returncode == 1
    assert "typo.cfg" in got.stderr and "does not exist" in got.stderr


LAYERED = (
    '[artifacts org="contoso"]\nauth = pat\n[artifacts org="contoso" feed="x"]\ncredential = environment\n'
)


def test_check_and_explain_agree_on_layered_settings(
    cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cli_env.config_path
    path.write_text(LAYERED)
    code, out, _ = run_cli(capsys, "check", "--config", str(path))
    assert code == 1
    (line,) = out.splitlines()
    assert line.startswith(f'{path}: [artifacts org="contoso" feed="x"] auth: auth = pat cannot work')
    assert '(auth from [artifacts org="contoso"], credential from [artifacts org="contoso" feed="x"])' in line
    code, out, _ = run_cli(capsys, "explain", FEED.replace("main", "x"), "--config", str(path))
    assert f"Problem   {line}" in out
    code, out, _ = run_cli(capsys, "explain", FEED, "--config", str(path))  # feed main: fine
    assert "Problem" not in out
    code, out, _ = run_cli(capsys, "doctor", "--json", FEED.replace("main", "x"), "--config", str(path))
    steps = {s["name"]: s for s in json.loads(out)["steps"]}
    assert steps["config"]["status"] == "failed" and "auth = pat cannot work" in steps["config"]["detail"]


def test_check_judges_unions_of_sections(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> None:
    """`[artifacts org=...]` and `[artifacts feed=...]` both apply to contoso/x."""
    path = cli_env.config_path
    path.write_text(
        '[artifacts org="contoso"]\nauth = pat\n[artifacts feed="x"]\ncredential = managed_identity\n'
    )
    code, out, _ = run_cli(capsys, "check", "--config", str(path))
    assert code == 1 and "auth = pat cannot work with credential = managed_identity" in out
    code, out, _ = run_cli(capsys, "explain", FEED.replace("main", "x"), "--config", str(path))
    assert "Problem   " in out


TYPOS = {
    "https://pkgs.dev.azure.com/contoso/_packging/main/pypi/simple/": "did you mean " + FEED,
    "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simpel/": "did you mean " + FEED,
    "http://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/": "did you mean " + FEED,
    "https://pkgs.dev.azure.com/contoso/": "names organization contoso but no feed",
}


@pytest.mark.parametrize("url", sorted(TYPOS))
def test_url_typos_get_a_pointed_answer_everywhere(
    url: str, clean_env: CleanEnv, cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = TYPOS[url]
    env = clean_env.for_lookup("", AZURE_DEVOPS_EXT_PAT="pat-1")
    got = keyring_get(env, url)
    lines = got.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], got.stderr
    _code, out, _err = run_cli(capsys, "explain", url)
    assert expected in out
    _code, _out, err = run_cli(capsys, "token", url)
    assert expected in err
    _code, out, _err = run_cli(capsys, "doctor", "--json", url)
    url_step = next(s for s in json.loads(out)["steps"] if s["name"] == "url")
    assert expected in url_step["detail"]


def test_foreign_urls_stay_silent(clean_env: CleanEnv) -> None:
    env = clean_env.for_lookup("")
    for url in ("https://pypi.org/simple/", "http://example.com/_packging/x/pypi/simple/"):
        got = keyring_get(env, url)
        assert (got.returncode, got.stderr) == (1, "")


def test_a_host_named_only_by_a_near_miss_section_is_reported(
    clean_env: CleanEnv,
    cli_env: CleanEnv,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = f'[artifact host="{HOST}"]\ntoken_env = MY_PAT\n'
    env = clean_env.for_lookup(text, MY_PAT="pat-1")
    got = keyring_get(env, HOST_FEED)
    lines = got.stderr.strip().splitlines()
    assert got.returncode == 1 and len(lines) == 1
    assert f'did you mean [artifacts host="{HOST}"]?' in lines[0]
    monkeypatch.setenv("KEYRINGS_AZURE_ARTIFACTS_CONFIG", str(clean_env.config_path))
    code, _out, err = run_cli(capsys, "token", HOST_FEED)
    assert code == 1 and "did you mean [artifacts" in err
