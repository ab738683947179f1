"""`azure-artifacts-keyring check` and `explain`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from keyrings.azure_artifacts import cli
from keyrings.azure_artifacts.config.options import OPTION_NAMES

if TYPE_CHECKING:
    from conftest import CleanEnv

CONFIGS = Path(__file__).parent / "configs"
RELEASE = "https://pkgs.dev.azure.com/contoso/_packaging/release/pypi/simple/"
DURATIONS = ("pat_duration", "pat_renew_before", "session_duration")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, clean_env: CleanEnv) -> None:
    """No compatibility variable leaks in, and explain's cache report looks at a private dir."""
    clean_env.install(monkeypatch, clean_env.for_lookup())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- check --------------------------------------------------------------------------------------


def test_check_clean_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--config", str(CONFIGS / "clean.cfg"))
    assert code == 0
    assert out.startswith(f"{CONFIGS / 'clean.cfg'}: OK")


def test_check_of_a_named_missing_file_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "check", "--config", str(tmp_path / "none.cfg"))
    assert code == 1
    assert err.strip() == f"{tmp_path / 'none.cfg'}: [-] file: does not exist"


def test_check_without_a_config_file_is_clean(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KEYRINGS_AZURE_ARTIFACTS_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert "does not exist: defaults apply" in out


@pytest.mark.parametrize(
    ("name", "line"),
    [
        (
            "bad_unknown_option.cfg",
            "[artifacts org=\"contoso\"] tenat: unknown option (did you mean 'tenant'?)",
        ),
        ("bad_enum.cfg", "[artifacts feed=\"main\"] auth: 'token' is not one of session, bearer, pat"),
        ("bad_duration.cfg", "[artifacts org=\"contoso\"] pat_duration: '90 days' is not a duration"),
        ("bad_unquoted.cfg", '[artifacts org=contoso] org: value must be quoted: org="contoso"'),
        ("bad_unknown_qualifier.cfg", '[artifacts organization="contoso"] organization: unknown qualifier'),
        ("bad_duplicate.cfg", "[artifacts feed='MAIN' org=\"Contoso\"] qualifiers: same qualifiers as"),
    ],
)
def test_check_reports_file_section_option(capsys: pytest.CaptureFixture[str], name: str, line: str) -> None:
    path = CONFIGS / name
    code, out, _ = run(capsys, "check", "--config", str(path))
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 1, out
    assert lines[0].startswith(f"{path}: {line}")


def test_check_uses_env_config_path(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEYRINGS_AZURE_ARTIFACTS_CONFIG", str(CONFIGS / "bad_enum.cfg"))
    code, out, _ = run(capsys, "check")
    assert code == 1 and "auth:" in out


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["frobnicate"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        cli.main([])
    assert exc.value.code == 2


def test_check_as_a_real_process(clean_env: CleanEnv) -> None:
    path = CONFIGS / "bad_unknown_option.cfg"
    result = subprocess.run(
        [sys.executable, "-m", "keyrings.azure_artifacts", "check", "--config", str(path)],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
    assert result.returncode == 1
    assert (
        result.stdout.strip()
        == f"{path}: [artifacts org=\"contoso\"] tenat: unknown option (did you mean 'tenant'?)"
    )
    assert "Traceback" not in result.stderr + result.stdout


# --- explain --json -----------------------------------------------------------------------------


def explain_json(capsys: pytest.CaptureFixture[str], url: str, config: Path) -> tuple[int, dict]:
    code, out, _ = run(capsys, "explain", url, "--json", "--config", str(config))
    return code, json.loads(out)


def test_explain_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    config = CONFIGS / "layered.cfg"
    code, report = explain_json(capsys, RELEASE, config)
    assert code == 0
    assert set(report) == {"url", "ours", "config", "sections", "settings", "chain", "cache"}
    assert report["url"] == {
        "service": RELEASE,
        "host": "pkgs.dev.azure.com",
        "org": "contoso",
        "project": None,
        "feed": "release",
        "view": None,
        "upload": False,
    }
    assert report["ours"] is True
    assert report["config"] == {"path": str(config), "exists": True, "errors": []}
    for section in report["sections"]:
        assert set(section) == {"name", "applies", "weight", "reason"}
        assert isinstance(section["applies"], bool) and isinstance(section["weight"], int)
        assert isinstance(section["reason"], str)
    names = [s["name"] for s in report["sections"]]
    assert names[:3] == ["artifacts", 'artifacts org="contoso"', 'artifacts org="contoso" feed="release"']
    assert "backend" not in names and "other-plugin" not in names
    assert set(report["settings"]) == set(OPTION_NAMES)
    for item in report["settings"].values():
        assert set(item) == {"value", "from"}
    settings = report["settings"]
    assert settings["auth"] == {"value": "pat", "from": 'artifacts org="contoso" feed="release"'}
    assert settings["tenant"] == {
        "value": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "from": 'artifacts org="contoso"',
    }
    assert settings["scopes"] == {
        "value": ["vso.packaging_write"],
        "from": 'artifacts org="contoso" feed="release"',
    }
    assert settings["credential"] == {"value": ["auto"], "from": "default"}
    assert settings["client_id"] == {"value": None, "from": "default"}
    for name in DURATIONS:
        value = settings[name]["value"]
        assert isinstance(value, int) and not isinstance(value, bool), name
    assert settings["pat_duration"]["value"] == 90 * 86400
    assert isinstance(report["chain"], list) and all(isinstance(n, str) for n in report["chain"])
    assert set(report["cache"]) == {"kind", "expires_at"}


def test_explain_json_from_env(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AZURE_DEVOPS_PAT_DURATION", "7")
    url = "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/upload/"
    (tmp_path / "empty.cfg").write_text("")
    code, report = explain_json(capsys, url, tmp_path / "empty.cfg")
    assert code == 0
    assert report["config"]["errors"] == []
    assert report["url"]["upload"] is True
    assert report["settings"]["pat_duration"] == {"value": 7 * 86400, "from": "env:AZURE_DEVOPS_PAT_DURATION"}
    assert report["settings"]["scopes"] == {"value": ["vso.packaging_write"], "from": "default"}
    assert report["sections"] == []


def test_explain_json_foreign_url(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = explain_json(capsys, "https://pypi.org/simple/", CONFIGS / "clean.cfg")
    assert code == 0
    assert report["ours"] is False
    assert set(report) == {"url", "ours", "config", "sections", "settings", "chain", "cache"}
    assert set(report["url"]) == {"service", "host", "org", "project", "feed", "view", "upload"}
    assert report["url"]["org"] is None


@pytest.mark.parametrize("as_json", [True, False])
def test_explain_on_invalid_config_exits_1(capsys: pytest.CaptureFixture[str], as_json: bool) -> None:
    path = CONFIGS / "bad_enum.cfg"
    main = RELEASE.replace("release", "main")
    argv = ["explain", main, "--config", str(path)] + (["--json"] if as_json else [])
    code, out, _ = run(capsys, *argv)
    assert code == 1
    if as_json:
        errors = json.loads(out)["config"]["errors"]
        assert errors == [
            f"{path}: [artifacts feed=\"main\"] auth: 'token' is not one of session, bearer, pat"
        ]
    else:
        assert "auth: 'token' is not one of" in out


def test_a_problem_in_a_section_for_another_feed_is_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    """bad_enum.cfg's problem is in [artifacts feed="main"]: the release feed is not affected."""
    code, out, _ = run(capsys, "explain", RELEASE, "--config", str(CONFIGS / "bad_enum.cfg"))
    assert code == 0
    assert "Warning   " in out and "auth: 'token' is not one of" in out
    code, out, _ = run(capsys, "check", "--config", str(CONFIGS / "bad_enum.cfg"))
    assert code == 1 and "auth: 'token' is not one of" in out


def test_explain_human_form(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", RELEASE, "--config", str(CONFIGS / "layered.cfg"))
    assert code == 0
    assert "Sections" in out
    header = next(line for line in out.splitlines() if "applies" in line and "weight" in line)
    assert "section" in header
    assert any(line.split()[:2] == ["yes", "10"] and 'feed="release"]' in line for line in out.splitlines())
    assert any(line.split()[:2] == ["no", "2"] and "fabrikam" in line for line in out.splitlines())
    assert "90d" in out  # durations shown the way they are written
    assert "Chain" in out and "Cache" in out
