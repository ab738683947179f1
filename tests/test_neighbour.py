"""A good neighbour inside keyring: `set`/`del` for services that are not ours go to another
backend when there is one, and say what to do when there is none.

The second backend is a real plugin: a module plus a dist-info with an entry point in
`keyring.backends`, found by keyring through importlib.metadata from PYTHONPATH.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from keyring.errors import KeyringError, PasswordDeleteError, PasswordSetError

from keyrings.azure_artifacts.backend import AzureArtifactsKeyring, CannotStore, NothingToDelete

if TYPE_CHECKING:
    from conftest import CleanEnv

BIN = Path(sys.executable).parent
PYPI = "https://upload.pypi.org/legacy/"
OURS = "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"

NEIGHBOUR = '''
import json, os
from keyring.backend import KeyringBackend

class JsonKeyring(KeyringBackend):
    """Stores passwords in the JSON file NEIGHBOUR_FILE names."""
    priority = 5

    def _load(self):
        path = os.environ["NEIGHBOUR_FILE"]
        return json.load(open(path)) if os.path.exists(path) else {}

    def get_password(self, service, username):
        return self._load().get(f"{service} {username}")

    def set_password(self, service, username, password):
        data = self._load()
        data[f"{service} {username}"] = password
        json.dump(data, open(os.environ["NEIGHBOUR_FILE"], "w"))

    def delete_password(self, service, username):
        data = self._load()
        data.pop(f"{service} {username}")
        json.dump(data, open(os.environ["NEIGHBOUR_FILE"], "w"))
'''


def _plugin(root: Path) -> Path:
    site = root / "neighbour-site"
    dist = site / "neighbour_keyring-1.0.dist-info"
    dist.mkdir(parents=True)
    (site / "neighbour_keyring.py").write_text(NEIGHBOUR, encoding="utf-8")
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: neighbour-keyring\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[keyring.backends]\nneighbour = neighbour_keyring\n")
    return site


def _keyring(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "keyring"), *args], input=stdin, env=env, capture_output=True, text=True, timeout=60
    )


def test_errors_are_what_the_chainer_skips_and_what_tools_catch() -> None:
    for kind in (CannotStore, NothingToDelete):
        assert issubclass(kind, NotImplementedError) and issubclass(kind, KeyringError)
    assert issubclass(NothingToDelete, PasswordDeleteError)
    ring = AzureArtifactsKeyring()
    with pytest.raises(PasswordSetError) as raised:
        ring.set_password(PYPI, "__token__", "pypi-secret")
    assert isinstance(raised.value, NotImplementedError) and isinstance(raised.value, KeyringError)
    assert "pypi-secret" not in str(raised.value)


def test_with_a_neighbour_set_and_del_go_there_and_our_feeds_still_answer(
    tmp_path: Path, clean_env: CleanEnv
) -> None:
    env = clean_env(
        PYTHONPATH=str(_plugin(tmp_path)),
        NEIGHBOUR_FILE=str(tmp_path / "stored.json"),
        KEYRINGS_AZURE_ARTIFACTS_STATE_DIR=str(clean_env.state_dir),
        AZURE_DEVOPS_EXT_PAT="pat-from-env",
    )
    listed = _keyring(env, "--list-backends")
    assert "neighbour_keyring.JsonKeyring" in listed.stdout, listed.stdout + listed.stderr

    stored = _keyring(env, "set", PYPI, "__token__", stdin="pypi-secret\n")
    assert stored.returncode == 0, stored.stderr
    assert "Traceback" not in stored.stderr
    got = _keyring(env, "get", PYPI, "__token__")
    assert (got.returncode, got.stdout.strip()) == (0, "pypi-secret")

    ours = _keyring(env, "get", OURS, "VssSessionToken")
    assert (ours.returncode, ours.stdout.strip()) == (0, "pat-from-env"), ours.stderr

    deleted = _keyring(env, "del", PYPI, "__token__")
    assert deleted.returncode == 0, deleted.stderr
    assert _keyring(env, "get", PYPI, "__token__").returncode == 1


def test_without_a_neighbour_set_and_del_say_what_to_do(clean_env: CleanEnv) -> None:
    env = clean_env(KEYRINGS_AZURE_ARTIFACTS_STATE_DIR=str(clean_env.state_dir))
    listed = _keyring(env, "--list-backends")
    assert "AzureArtifactsKeyring" in listed.stdout
    stored = _keyring(env, "set", PYPI, "__token__", stdin="pypi-secret\n")
    assert stored.returncode != 0
    last = stored.stderr.strip().splitlines()[-1]
    assert "CannotStore" in last and "only provides Azure Artifacts credentials" in last
    assert "no other keyring backend" in last and "keyrings.alt" in last and "PYTHON_KEYRING_BACKEND" in last
    assert "pypi-secret" not in stored.stderr

    deleted = _keyring(env, "del", PYPI, "__token__")
    last = deleted.stderr.strip().splitlines()[-1]
    assert deleted.returncode != 0 and "NothingToDelete" in last and "keyrings.alt" in last


KEYRING_STEP = "import os; from keyrings.azure_artifacts import keyring_checks as k; print(k.in_process('x', os.environ))"


@pytest.mark.parametrize("neighbour", [False, True])
def test_doctor_says_when_this_backend_is_the_only_viable_one(
    neighbour: bool, tmp_path: Path, clean_env: CleanEnv
) -> None:
    extra = (
        {"PYTHONPATH": str(_plugin(tmp_path)), "NEIGHBOUR_FILE": str(tmp_path / "s.json")}
        if neighbour
        else {}
    )
    result = subprocess.run(
        [sys.executable, "-c", KEYRING_STEP],
        env=clean_env(**extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert ("only viable backend" in result.stdout) is not neighbour, result.stdout
    assert ("`keyring set` cannot store" in result.stdout) is not neighbour
