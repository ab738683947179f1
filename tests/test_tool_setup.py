"""`setup URL --tool T`: each tool's file edited in place, comments kept, idempotent, never a secret.

The files are parsed back with the parsers the tools themselves use (tomllib / configparser)
to check what the tool will read; tests/tools/test_setup_tools.py runs the real tools on them.
"""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import posix_only

from keyrings.azure_artifacts import cli, tool_setup

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.9/3.10: tomlkit reads TOML too
    import tomlkit as tomllib

FEED = "https://pkgs.dev.azure.com/contoso/_packaging/Main/pypi/simple/"
INDEX = FEED
UPLOAD = "https://pkgs.dev.azure.com/contoso/_packaging/Main/pypi/upload/"
WITH_USER = "https://VssSessionToken@pkgs.dev.azure.com/contoso/_packaging/Main/pypi/simple/"
NAME = "contoso-main"
PYPROJECT = """\
# the app
[project]
name = "app"  # keep this comment
version = "0.1.0"

[tool.ruff]
line-length = 100  # and this one
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A private home, config dir, keyringrc.cfg and an empty PATH; the process env matches (for cli.main)."""
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    environ = {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "KEYRINGS_AZURE_ARTIFACTS_CONFIG": str(tmp_path / "keyringrc.cfg"),
        "KEYRINGS_AZURE_ARTIFACTS_STATE_DIR": str(tmp_path / "state"),
        "PATH": str(empty_bin),
    }
    for name in ("PIP_CONFIG_FILE", "HATCH_CONFIG", "APPDATA", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    return environ


def project(env: dict[str, str], text: str = PYPROJECT) -> Path:
    path = Path.cwd() / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_setup(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["setup", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def plan(env: dict[str, str], tool: str, **options: object) -> list[tool_setup.FileEdit]:
    return tool_setup.prepare(FEED, tool, cwd=Path.cwd(), environ=env, **options).edits  # type: ignore[arg-type]


def write(edits: list[tool_setup.FileEdit]) -> None:
    tool_setup.apply(edits)


def toml(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def ini(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read(path, encoding="utf-8")
    return parser


# --- pip -----------------------------------------------------------------------------------------


def test_pip_writes_extra_index_url_in_the_user_pip_conf(env: dict[str, str]) -> None:
    write(plan(env, "pip"))

    conf = Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf"
    assert ini(conf).get("global", "extra-index-url") == INDEX
    assert all(not edit.changed for edit in plan(env, "pip"))


def test_pip_appends_to_an_existing_list_keeping_comments(env: dict[str, str]) -> None:
    conf = Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(
        "# my pip\n[global]\n# indexes\nextra-index-url =\n    https://a.example/simple/\n"
        "    https://b.example/simple/\ntimeout = 30\n",
        encoding="utf-8",
    )

    write(plan(env, "pip"))
    text = conf.read_text(encoding="utf-8")

    assert text.startswith("# my pip\n[global]\n# indexes\n")
    assert ini(conf).get("global", "extra-index-url").split() == [
        "https://a.example/simple/",
        "https://b.example/simple/",
        INDEX,
    ]
    assert ini(conf).get("global", "timeout") == "30"


@pytest.mark.parametrize(
    "listed",
    [
        INDEX,
        INDEX.rstrip("/"),
        WITH_USER,
        "https://PKGS.dev.azure.com/Contoso/_packaging/main/pypi/simple/",
    ],
)
def test_pip_does_not_add_the_feed_twice(env: dict[str, str], listed: str) -> None:
    conf = Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(
        f"[global]\nextra_index_url = https://a.example/simple/ {listed}\nkeyring_provider = import\n",
        encoding="utf-8",
    )

    assert all(not edit.changed for edit in plan(env, "pip"))


def test_pip_extra_is_not_needed_when_the_feed_is_the_index(env: dict[str, str]) -> None:
    conf = Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(f"[global]\nindex-url = {INDEX}\nkeyring-provider = subprocess\n", encoding="utf-8")

    assert all(not edit.changed for edit in plan(env, "pip"))  # a provider chosen on purpose stays


def test_pip_primary_replaces_index_url_and_keeps_the_rest(env: dict[str, str]) -> None:
    conf = Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(
        "[global]\n# where from\nindex-url = https://pypi.org/simple/\ntimeout = 30\n", encoding="utf-8"
    )

    write(plan(env, "pip", primary=True))

    assert conf.read_text(encoding="utf-8") == (
        f"[global]\n# where from\nindex-url = {INDEX}\ntimeout = 30\nkeyring-provider = import\n"
    )


def test_pip_follows_pip_config_file_when_it_names_a_file(env: dict[str, str], tmp_path: Path) -> None:
    conf = tmp_path / "custom.conf"
    conf.write_text("[global]\ntimeout = 5\n", encoding="utf-8")

    [edit] = plan({**env, "PIP_CONFIG_FILE": str(conf)}, "pip")

    assert edit.path == conf


def test_pip_config_file_devnull_is_refused(env: dict[str, str]) -> None:
    with pytest.raises(tool_setup.SetupError, match="reads no configuration file"):
        plan({**env, "PIP_CONFIG_FILE": os.devnull}, "pip")


def test_pip_edits_the_legacy_file_that_already_sets_the_key(env: dict[str, str]) -> None:
    legacy = Path(env["HOME"]) / ".pip" / "pip.conf"
    legacy.parent.mkdir(parents=True)
    legacy.write_text("[global]\nextra-index-url = https://a.example/simple/\n", encoding="utf-8")

    [edit] = plan(env, "pip")

    assert edit.path == legacy  # a new file's extra-index-url would hide the legacy list


def test_pip_site_is_this_environment(env: dict[str, str]) -> None:
    [edit] = plan(env, "pip", site=True)

    assert edit.path.parent == Path(sys.prefix)


def test_pip_keeps_crlf_line_ends(env: dict[str, str]) -> None:
    conf = Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf"
    conf.parent.mkdir(parents=True)
    conf.write_bytes(b"[global]\r\ntimeout = 30\r\n")

    write(plan(env, "pip"))

    expected = f"[global]\r\ntimeout = 30\r\nextra-index-url = {INDEX}\r\nkeyring-provider = import\r\n"
    assert conf.read_bytes() == expected.encode()


# --- uv ------------------------------------------------------------------------------------------


def test_uv_adds_an_index_with_a_username_and_keyring_provider(env: dict[str, str]) -> None:
    path = project(env)

    write(plan(env, "uv"))
    text = path.read_text(encoding="utf-8")
    data = toml(path)

    assert text.startswith(PYPROJECT)  # everything before is untouched, comments included
    assert data["tool"]["uv"]["keyring-provider"] == "subprocess"
    assert data["tool"]["uv"]["index"] == [
        {
            "name": NAME,
            "url": WITH_USER,
            "publish-url": UPLOAD.replace("https://", "https://VssSessionToken@"),
            "authenticate": "always",
        }
    ]
    assert all(not edit.changed for edit in plan(env, "uv"))


def test_uv_updates_the_feed_entry_already_there(env: dict[str, str]) -> None:
    path = project(env, PYPROJECT + f'\n[[tool.uv.index]]\nname = "azure"  # ours\nurl = "{INDEX}"\n')

    write(plan(env, "uv", primary=True))
    [entry] = toml(path)["tool"]["uv"]["index"]

    assert entry["name"] == "azure" and entry["url"] == WITH_USER
    assert entry["authenticate"] == "always" and entry["default"] is True
    assert "# ours" in path.read_text(encoding="utf-8")


def test_uv_primary_refuses_a_second_default(env: dict[str, str]) -> None:
    project(
        env, PYPROJECT + '\n[[tool.uv.index]]\nname = "corp"\nurl = "https://corp/simple/"\ndefault = true\n'
    )

    with pytest.raises(tool_setup.SetupError, match="'corp' is already the default"):
        plan(env, "uv", primary=True)


def test_uv_refuses_a_name_taken_by_another_index(env: dict[str, str]) -> None:
    project(env, PYPROJECT + f'\n[[tool.uv.index]]\nname = "{NAME}"\nurl = "https://corp/simple/"\n')

    with pytest.raises(tool_setup.SetupError, match="choose another name with --name"):
        plan(env, "uv")


def test_uv_toml_wins_when_the_project_has_one(env: dict[str, str]) -> None:
    project(env)
    uv_toml = Path.cwd() / "uv.toml"
    uv_toml.write_text("# uv settings\nnative-tls = true\n", encoding="utf-8")

    write(plan(env, "uv"))
    data = toml(uv_toml)

    assert data["keyring-provider"] == "subprocess" and data["native-tls"] is True
    assert data["index"][0]["url"] == WITH_USER
    assert toml(Path.cwd() / "pyproject.toml") == toml(Path.cwd() / "pyproject.toml")  # read, not written
    assert (Path.cwd() / "pyproject.toml").read_text(encoding="utf-8") == PYPROJECT


def test_uv_finds_the_project_above_the_working_directory(env: dict[str, str]) -> None:
    path = project(env)
    below = Path.cwd() / "src" / "app"
    below.mkdir(parents=True)

    [edit] = tool_setup.prepare(FEED, "uv", cwd=below, environ=env).edits

    assert edit.path == path


def test_uv_without_a_project_says_where_it_looked(env: dict[str, str]) -> None:
    with pytest.raises(tool_setup.SetupError, match=r"no uv\.toml or pyproject\.toml in"):
        plan(env, "uv")


def test_uv_notes_when_no_keyring_is_on_path(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    project(env)

    code, _, err = run_setup(capsys, FEED, "--tool", "uv")

    assert code == 0
    assert "note: uv runs `keyring` from PATH and there is none" in err


@posix_only
def test_uv_notes_a_keyring_on_path_without_the_backend(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fake = Path(env["PATH"]) / "keyring"
    fake.write_text("#!/bin/sh\necho 'keyring.backends.fail.Keyring (priority: 0)'\n", encoding="utf-8")
    fake.chmod(0o755)
    project(env)

    code, _, err = run_setup(capsys, FEED, "--tool", "uv")

    assert code == 0
    assert f"note: {fake} lacks this backend (it has: keyring.backends.fail.Keyring)" in err


# --- poetry, pdm, hatch -------------------------------------------------------------------------


@pytest.mark.parametrize(("primary", "priority"), [(False, "supplemental"), (True, "primary")])
def test_poetry_source_and_publish_repository(env: dict[str, str], primary: bool, priority: str) -> None:
    path = project(env)

    write(plan(env, "poetry", primary=primary))

    assert path.read_text(encoding="utf-8").startswith(PYPROJECT)
    assert toml(path)["tool"]["poetry"]["source"] == [{"name": NAME, "url": INDEX, "priority": priority}]
    assert toml(Path.cwd() / "poetry.toml") == {"repositories": {NAME: {"url": UPLOAD}}}
    assert all(not edit.changed for edit in plan(env, "poetry", primary=primary))


def test_poetry_refuses_a_repository_name_that_uploads_elsewhere(env: dict[str, str]) -> None:
    project(env)
    (Path.cwd() / "poetry.toml").write_text(
        f'[repositories.{NAME}]\nurl = "https://corp/upload/"\n', encoding="utf-8"
    )

    with pytest.raises(tool_setup.SetupError, match="already points at https://corp/upload/"):
        plan(env, "poetry")


@pytest.mark.parametrize(("primary", "source"), [(False, NAME), (True, "pypi")])
def test_pdm_source_and_publish_repository(env: dict[str, str], primary: bool, source: str) -> None:
    path = project(env)

    write(plan(env, "pdm", primary=primary))

    assert toml(path)["tool"]["pdm"]["source"] == [{"name": source, "url": INDEX}]
    assert toml(Path.cwd() / "pdm.toml") == {"repository": {NAME: {"url": UPLOAD}}}
    assert all(not edit.changed for edit in plan(env, "pdm", primary=primary))


def test_hatch_env_vars_and_publish_repository(env: dict[str, str]) -> None:
    path = project(
        env, PYPROJECT + '\n[tool.hatch.envs.default.env-vars]\nPIP_EXTRA_INDEX_URL = "https://a/simple/"\n'
    )

    write(plan(env, "hatch"))

    variables = toml(path)["tool"]["hatch"]["envs"]["default"]["env-vars"]
    assert variables == {"PIP_EXTRA_INDEX_URL": f"https://a/simple/ {INDEX}"}
    config = toml(Path(env["XDG_CONFIG_HOME"]) / "hatch" / "config.toml")
    assert config == {"publish": {"index": {"repos": {NAME: {"url": UPLOAD, "user": "VssSessionToken"}}}}}
    assert all(not edit.changed for edit in plan(env, "hatch"))


def test_hatch_primary_with_the_uv_installer(env: dict[str, str]) -> None:
    path = project(env, PYPROJECT + '\n[tool.hatch.envs.default]\ninstaller = "uv"\n')

    write(plan(env, "hatch", primary=True))

    variables = toml(path)["tool"]["hatch"]["envs"]["default"]["env-vars"]
    assert variables == {"UV_KEYRING_PROVIDER": "subprocess", "UV_DEFAULT_INDEX": WITH_USER}


def test_hatch_toml_and_hatch_config_env_var(env: dict[str, str], tmp_path: Path) -> None:
    project(env)
    hatch_toml = Path.cwd() / "hatch.toml"
    hatch_toml.write_text("# hatch\n[envs.default]\nskip-install = true\n", encoding="utf-8")
    config = tmp_path / "hatch-config.toml"

    write(plan({**env, "HATCH_CONFIG": str(config)}, "hatch", primary=True))

    assert toml(hatch_toml)["envs"]["default"] == {"skip-install": True, "env-vars": {"PIP_INDEX_URL": INDEX}}
    assert toml(config)["publish"]["index"]["repos"][NAME]["url"] == UPLOAD


def test_hatch_reserved_repository_names(env: dict[str, str]) -> None:
    project(env)

    with pytest.raises(tool_setup.SetupError, match="hatch reserves the repository name 'main'"):
        plan(env, "hatch", name="main")


# --- twine ---------------------------------------------------------------------------------------


def test_twine_pypirc_keeps_pypi_and_testpypi(env: dict[str, str]) -> None:
    write(plan(env, "twine"))

    parser = ini(Path(env["HOME"]) / ".pypirc")
    assert parser.get("distutils", "index-servers").split() == ["pypi", "testpypi", NAME]
    assert dict(parser.items(NAME)) == {"repository": UPLOAD, "username": "VssSessionToken"}
    assert all(not edit.changed for edit in plan(env, "twine"))


def test_twine_appends_to_index_servers_and_notes_a_password(env: dict[str, str]) -> None:
    pypirc = Path(env["HOME"]) / ".pypirc"
    pypirc.parent.mkdir(parents=True)
    pypirc.write_text(
        f"# mine\n[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\n\n"
        f"[{NAME}]\npassword = hunter2\n",
        encoding="utf-8",
    )

    [edit] = plan(env, "twine")
    write([edit])

    parser = ini(pypirc)
    assert parser.get("distutils", "index-servers").split() == ["pypi", NAME]
    assert parser.get(NAME, "repository") == UPLOAD
    assert parser.get(NAME, "password") == "hunter2"  # not ours to remove; the note says so
    assert any("twine uses it instead of keyring" in note for note in edit.notes)
    assert pypirc.read_text(encoding="utf-8").startswith("# mine\n")


# --- --tenant ------------------------------------------------------------------------------------


def test_tenant_updates_the_org_section_whatever_its_quoting(env: dict[str, str]) -> None:
    config = Path(env["KEYRINGS_AZURE_ARTIFACTS_CONFIG"])
    config.write_text(
        "# keyring\n[backend]\n\n[artifacts org='Contoso']\n# pinned\ntenant = old.example\nauth = pat\n",
        encoding="utf-8",
    )

    write(plan(env, "pip", tenant="72F988BF-86F1-41AF-91AB-2D7CD011DB47"))

    assert config.read_text(encoding="utf-8") == (
        "# keyring\n[backend]\n\n[artifacts org='Contoso']\n# pinned\n"
        "tenant = 72f988bf-86f1-41af-91ab-2d7cd011db47\nauth = pat\n"
    )
    assert cli.main(["check"]) == 0


def test_tenant_adds_the_org_section(env: dict[str, str]) -> None:
    config = Path(env["KEYRINGS_AZURE_ARTIFACTS_CONFIG"])
    config.write_text("[artifacts]\nauth = session\n", encoding="utf-8")

    write(plan(env, "pip", tenant="contoso.onmicrosoft.com"))

    assert config.read_text(encoding="utf-8") == (
        '[artifacts]\nauth = session\n\n[artifacts org="contoso"]\ntenant = contoso.onmicrosoft.com\n'
    )


# --- the command ---------------------------------------------------------------------------------


def test_dry_run_prints_a_diff_and_writes_nothing(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = project(env)

    code, out, _ = run_setup(capsys, FEED, "--tool", "poetry", "--dry-run")

    assert code == 0
    assert f"--- {path}\n+++ {path}\n" in out
    assert f'+url = "{INDEX}"\n' in out
    assert "--- /dev/null\n" in out  # poetry.toml does not exist yet
    assert path.read_text(encoding="utf-8") == PYPROJECT
    assert not (Path.cwd() / "poetry.toml").exists()


def test_second_run_changes_nothing_and_says_so(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = project(env)
    assert run_setup(capsys, FEED, "--tool", "pdm")[0] == 0
    before = path.stat().st_mtime_ns, path.read_text(encoding="utf-8")

    code, out, _ = run_setup(capsys, FEED, "--tool", "pdm")
    dry = run_setup(capsys, FEED, "--tool", "pdm", "--dry-run")

    assert code == 0
    assert f"{path}: already set up, nothing changed" in out
    assert "publish with: pdm publish -r contoso-main" in out
    assert "nothing to change" in dry[1] and "+++" not in dry[1]
    assert (path.stat().st_mtime_ns, path.read_text(encoding="utf-8")) == before


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://pypi.org/simple/", "is not an Azure Artifacts feed URL"),
        (
            "https://pkgs.dev.azure.com.evil.io/contoso/_packaging/main/pypi/simple/",
            "is not an Azure Artifacts",
        ),
        ("https://pkgs.dev.azure.com/contoso/", "names no feed"),
    ],
)
def test_urls_that_are_not_a_feed_fail_in_one_line(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], url: str, message: str
) -> None:
    code, out, err = run_setup(capsys, url, "--tool", "pip")

    assert code == 1 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (Path(env["XDG_CONFIG_HOME"]) / "pip").exists()


def test_unknown_tool_is_a_usage_error(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["setup", FEED, "--tool", "conda"])
    assert exit_.value.code == 2
    assert "invalid choice: 'conda'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tool", "uv", "--site"], "--site is for --tool pip"),
        (["--tool", "poetry", "--file", "x.toml"], "--file is for pip, uv and twine"),
    ],
)
def test_options_for_other_tools_are_usage_errors(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run_setup(capsys, FEED, *argv)

    assert code == 2 and message in err


@pytest.mark.parametrize(
    ("tool", "name", "text"),
    [
        ("uv", "pyproject.toml", '[project\nname = "app"\n'),
        ("poetry", "pyproject.toml", "a = 1\na = 2\n"),
        ("pip", "pip.conf", "index-url = no section header\n"),
        ("twine", ".pypirc", "[distutils]\nindex-servers = a\nindex-servers = b\n"),
    ],
)
def test_a_malformed_file_fails_in_one_line_and_stays_untouched(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], tool: str, name: str, text: str
) -> None:
    where = {"pip.conf": Path(env["XDG_CONFIG_HOME"]) / "pip", ".pypirc": Path(env["HOME"])}
    path = where.get(name, Path.cwd()) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")

    code, out, err = run_setup(capsys, FEED, "--tool", tool, "--tenant", "contoso.onmicrosoft.com")

    assert code == 1 and out == ""
    assert f"{path}: cannot parse the existing file" in err and len(err.strip().splitlines()) == 1
    assert path.read_text(encoding="utf-8") == text
    assert not Path(env["KEYRINGS_AZURE_ARTIFACTS_CONFIG"]).exists()


def test_an_unwritable_place_fails_before_any_file_is_written(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """XDG_CONFIG_HOME is a file: pip.conf cannot be created, and the keyringrc.cfg edit is not made either."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker))
    config = Path(env["KEYRINGS_AZURE_ARTIFACTS_CONFIG"])
    config.write_text("[artifacts]\n", encoding="utf-8")

    code, _, err = run_setup(capsys, FEED, "--tool", "pip", "--tenant", "contoso.onmicrosoft.com")

    assert code == 1
    assert f"{blocker}/pip/pip.conf: cannot write" in err and len(err.strip().splitlines()) == 1
    assert config.read_text(encoding="utf-8") == "[artifacts]\n"


def test_a_bad_tenant_fails_in_one_line(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_setup(capsys, FEED, "--tool", "pip", "--tenant", "not a tenant")

    assert code == 1 and "--tenant: 'not a tenant' is not a tenant GUID or domain name" in err


def test_a_symlinked_file_stays_a_symlink(env: dict[str, str], tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "pypirc"
    real.parent.mkdir()
    real.write_text("[distutils]\nindex-servers = pypi\n", encoding="utf-8")
    link = Path(env["HOME"]) / ".pypirc"
    link.parent.mkdir(parents=True)
    link.symlink_to(real)

    write(plan(env, "twine"))

    assert link.is_symlink() and NAME in real.read_text(encoding="utf-8")


def test_help_documents_every_tool(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["setup", "--help"])
    out = capsys.readouterr().out
    for word in ("--primary", "--dry-run", "--tenant", *tool_setup.TOOLS):
        assert word in out


def test_the_cli_module_does_not_import_the_toml_and_ini_libraries(tmp_path: Path) -> None:
    """tomlkit and configupdater load only when `setup` runs."""
    script = (
        "import sys, keyrings.azure_artifacts.cli as cli\n"
        "cli._parser()\n"
        "print(sorted(m for m in ('tomlkit', 'configupdater') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
