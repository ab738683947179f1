"""AzureArtifactsKeyring against keyring's contract."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import pytest

from keyrings.azure_artifacts import lookup, service
from keyrings.azure_artifacts._log import LOGGER_NAME, get_logger
from keyrings.azure_artifacts.backend import AzureArtifactsKeyring
from keyrings.azure_artifacts.secret import Secret

if TYPE_CHECKING:
    from conftest import CleanEnv

BIN = Path(sys.executable).parent
OURS = "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"
FOREIGN = [
    "https://pypi.org/simple/",
    "https://pkgs.dev.azure.com.evil.io/contoso/_packaging/main/pypi/simple/",
    "https://evilpkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/",
    "https://evil.io/pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/",
    "https://pkgs.dev.azure.com@evil.io/contoso/_packaging/main/pypi/simple/",
    "poetry-repository-x",
    "python-poetry-check",
    "pkgs.dev.azure.com",
    "",
]
BROKEN = {
    "garbage": b"this is not an ini file\n= = =\n",
    "duplicate-sections": b'[artifacts org="contoso"]\nauth = pat\n[artifacts org="contoso"]\nauth = bearer\n',
    "binary-junk": b"\x00\xff\xfe\x80\x81garbage\x00\x00",
    "bad-value": b"[artifacts]\nauth = nonsense\n",
}


class FakeProvider:
    """Stands in for the lookup and hands out a fixed secret, so the tests can see whether the
    backend would have used one (and never reach a network)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def obtain(self, resolution: Any, ctx: object, username: Optional[str] = None) -> Secret:
        self.calls.append(resolution.ref.service)
        return Secret(username or "VssSessionToken", "s3cret", "static")


@pytest.fixture(autouse=True)
def _private_dirs(monkeypatch: pytest.MonkeyPatch, clean_env: CleanEnv) -> None:
    """No test reads or writes the real user's keyring config or secret cache."""
    for name, value in clean_env().items():
        if name.startswith(("HOME", "XDG_")):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("KEYRINGS_AZURE_ARTIFACTS_STATE_DIR", str(clean_env.state_dir))
    for name in ("KEYRINGS_AZURE_ARTIFACTS_CONFIG", "PYTHON_KEYRING_BACKEND"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    fake = FakeProvider()
    monkeypatch.setattr(lookup, "obtain", fake.obtain)
    return fake


class _Stderr:
    """What our logger wrote to stderr (its handler follows sys.stderr, so capsys sees it)."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.seen = ""

    def getvalue(self) -> str:
        self.seen += self.capsys.readouterr().err
        return self.seen


@pytest.fixture
def stderr_log(capsys: pytest.CaptureFixture[str]) -> _Stderr:
    return _Stderr(capsys)


def config_env(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """The variable names `path`; a file that does not exist is an empty one here (a named file
    that is missing is an error of its own)."""
    if not path.exists():
        path.write_text("")
    monkeypatch.setenv("KEYRINGS_AZURE_ARTIFACTS_CONFIG", str(path))


# --- in process ---------------------------------------------------------------------------------


def test_priority_and_contract() -> None:
    assert AzureArtifactsKeyring.priority == 9.9
    assert AzureArtifactsKeyring().priority == 9.9
    with pytest.raises(NotImplementedError):
        AzureArtifactsKeyring().set_password(OURS, "u", "p")


@pytest.mark.parametrize("service_name", FOREIGN)
def test_foreign_services_get_none(
    service_name: str, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config_env(monkeypatch, tmp_path / "none.cfg")
    backend = AzureArtifactsKeyring()
    assert backend.get_credential(service_name, None) is None
    assert backend.get_credential(service_name, "user") is None
    assert backend.get_password(service_name, "user") is None
    assert provider.calls == []


def test_our_service_reaches_the_provider(
    provider: FakeProvider, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config_env(monkeypatch, tmp_path / "none.cfg")
    backend = AzureArtifactsKeyring()
    credential = backend.get_credential(OURS, None)
    assert credential is not None
    assert (credential.username, credential.password) == ("VssSessionToken", "s3cret")
    assert backend.get_password(OURS, "me") == "s3cret"
    assert provider.calls == [OURS, OURS]


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_broken_config_never_raises_and_gives_nothing(
    kind: str,
    provider: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    stderr_log: io.StringIO,
) -> None:
    path = tmp_path / "keyringrc.cfg"
    path.write_bytes(BROKEN[kind])
    config_env(monkeypatch, path)
    backend = AzureArtifactsKeyring()
    assert backend.get_password("https://pypi.org/simple/", "u") is None
    assert backend.get_credential("poetry-repository-x", None) is None
    assert stderr_log.getvalue() == ""
    assert backend.get_credential(OURS, None) is None
    assert backend.get_password(OURS, "u") is None
    assert provider.calls == [], "a broken config must never yield a credential"
    lines = stderr_log.getvalue().splitlines()
    assert len(lines) == 2, lines  # one line per lookup
    assert "contoso" in lines[0] and str(path) in lines[0]


def test_config_directory_instead_of_file(
    provider: FakeProvider, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config_env(monkeypatch, tmp_path)
    assert AzureArtifactsKeyring().get_credential(OURS, None) is None
    assert AzureArtifactsKeyring().get_credential("https://pypi.org/simple/", None) is None


def test_unexpected_error_is_swallowed(monkeypatch: pytest.MonkeyPatch, stderr_log: io.StringIO) -> None:
    def boom(service: str, username: Optional[str]) -> None:
        raise RuntimeError("something broke\nsecond line")

    monkeypatch.setattr(service, "lookup", boom)
    assert AzureArtifactsKeyring().get_password(OURS, "u") is None
    assert stderr_log.getvalue().splitlines() == ["azure-artifacts: something broke"]


# --- real processes -----------------------------------------------------------------------------


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)


def test_keyring_lists_the_backend(clean_env: CleanEnv) -> None:
    result = run([str(BIN / "keyring"), "--list-backends"], clean_env())
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if "AzureArtifactsKeyring" in line)
    assert "priority: 9.9" in line
    assert "Traceback" not in result.stderr


def test_keyring_diagnose_still_works(tmp_path: Path, clean_env: CleanEnv) -> None:
    config = tmp_path / "config" / "python_keyring" / "keyringrc.cfg"
    config.parent.mkdir(parents=True)
    config.write_text('[artifacts org="contoso"]\nauth = pat\n[other]\nx = 1\n', encoding="utf-8")
    result = run([str(BIN / "keyring"), "diagnose"], clean_env())
    assert result.returncode == 0, result.stderr
    assert f"config path: {config}" in result.stdout
    assert "Traceback" not in result.stderr


LOOKUP = """
import json, sys
from keyrings.azure_artifacts.backend import AzureArtifactsKeyring
backend = AzureArtifactsKeyring()
print(json.dumps([backend.get_password(sys.argv[1], "u"), backend.get_credential(sys.argv[2], None)]))
"""


@pytest.mark.parametrize("kind", ["garbage", "duplicate-sections", "binary-junk"])
def test_broken_config_in_a_real_process(kind: str, tmp_path: Path, clean_env: CleanEnv) -> None:
    path = tmp_path / "keyringrc.cfg"
    path.write_bytes(BROKEN[kind])
    env = clean_env(KEYRINGS_AZURE_ARTIFACTS_CONFIG=str(path))
    result = run([sys.executable, "-c", LOOKUP, "https://pypi.org/simple/", "poetry-repository-x"], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [None, None]
    assert result.stderr == ""
    result = run(
        [sys.executable, "-c", LOOKUP, OURS, "https://pkgs.dev.azure.com.evil.io/x/_packaging/y/"], env
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [None, None]
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("azure-artifacts: ") and str(path) in lines[0]
    assert "Traceback" not in result.stderr


PROBE = """
import sys
from keyrings.azure_artifacts.backend import AzureArtifactsKeyring
events = []
def hook(event, args):
    if event in ("open", "socket.connect", "socket.getaddrinfo", "subprocess.Popen", "os.listdir", "os.scandir"):
        events.append(event)
sys.addaudithook(hook)
for _ in range(3):
    AzureArtifactsKeyring.priority
    backend = AzureArtifactsKeyring()
    backend.priority
print(events)
"""


def test_priority_and_init_do_no_io(clean_env: CleanEnv) -> None:
    result = run([sys.executable, "-c", PROBE], clean_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# pip's logging set-up, in short: the root logger at DEBUG, records below WARNING to stdout
# (where uv reads a password from), warnings and errors to stderr without our prefix.
PIP_LIKE_LOGGING = """
import logging, sys
out = logging.StreamHandler(sys.stdout)
out.addFilter(lambda record: record.levelno < logging.WARNING)
err = logging.StreamHandler(sys.stderr)
err.setLevel(logging.WARNING)
root = logging.getLogger()
root.setLevel(logging.DEBUG)
root.addHandler(out)
root.addHandler(err)
from keyrings.azure_artifacts.backend import AzureArtifactsKeyring
AzureArtifactsKeyring().get_password(sys.argv[1], "u")
"""


def test_our_lines_never_reach_the_host_tools_handlers(tmp_path: Path, clean_env: CleanEnv) -> None:
    """Our logger keeps its records to itself: one prefixed stderr line each, nothing on stdout,
    even with debug logging inside a tool that configured the root logger."""
    path = tmp_path / "keyringrc.cfg"
    path.write_bytes(BROKEN["bad-value"])
    env = clean_env(KEYRINGS_AZURE_ARTIFACTS_CONFIG=str(path), KEYRINGS_AZURE_ARTIFACTS_LOG="debug")
    result = run([sys.executable, "-c", PIP_LIKE_LOGGING, OURS], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert any("no credential for 'contoso'" in line for line in lines), lines
    assert all(line.startswith("azure-artifacts: ") for line in lines), lines
    assert len(lines) == len(set(lines)), "a line was printed twice"
    assert get_logger().name == LOGGER_NAME
