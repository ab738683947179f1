"""Every process that resolves a keyring imports our backend: it must stay light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("pydantic", "msal", "msal_extensions", "azure.identity", "requests")

SCRIPT = f"""
import json, sys
heavy = {HEAVY!r}
loaded = lambda: [name for name in heavy if name in sys.modules]
steps = {{}}
import keyring, keyring.backend
keyring.get_keyring()
steps["get_keyring"] = loaded()
names = [type(b).__name__ for b in keyring.backend.get_all_keyring()]
keyring.get_password("https://pypi.org/simple/", "u")
steps["foreign get_password"] = loaded()
keyring.get_credential("https://pkgs.dev.azure.com.evil.io/x/_packaging/y/pypi/simple/", None)
keyring.get_password("poetry-repository-x", "u")
steps["look-alike get_credential"] = loaded()
print(json.dumps({{"backends": names, "steps": steps}}))
"""


def clean_env(tmp_path: Path) -> dict[str, str]:
    """The caller's environment minus anything that would bypass plugins, with a private home."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    env.pop("KEYRINGS_AZURE_ARTIFACTS_CONFIG", None)
    env.update(
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    return env


def run_script(tmp_path: Path, script: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=clean_env(tmp_path), timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_foreign_lookups_import_nothing_heavy(tmp_path: Path) -> None:
    report = run_script(tmp_path, SCRIPT)
    assert "AzureArtifactsKeyring" in report["backends"], (
        "the backend was not loaded: this test proves nothing"
    )
    assert report["steps"] == {"get_keyring": [], "foreign get_password": [], "look-alike get_credential": []}


def test_foreign_lookups_stay_light_with_a_config_file(tmp_path: Path) -> None:
    """Reading `host` sections for a foreign URL must not pull pydantic in either."""
    config = tmp_path / "config" / "python_keyring" / "keyringrc.cfg"
    config.parent.mkdir(parents=True)
    config.write_text(
        '[artifacts]\nauth = pat\npat_duration = P90D\n[artifacts host="devops.example.com"]\nauth = bearer\n',
        encoding="utf-8",
    )
    report = run_script(tmp_path, SCRIPT)
    assert "AzureArtifactsKeyring" in report["backends"]
    assert all(step == [] for step in report["steps"].values()), report["steps"]


def test_the_check_can_fail(tmp_path: Path) -> None:
    """The same probe sees pydantic once a lookup for one of our URLs validates the config.

    The config is invalid on purpose, so the lookup stops before any credential flow or network.
    """
    config = tmp_path / "config" / "python_keyring" / "keyringrc.cfg"
    config.parent.mkdir(parents=True)
    config.write_text("[artifacts]\nauth = nonsense\n", encoding="utf-8")
    script = SCRIPT.replace(
        'steps["look-alike get_credential"] = loaded()',
        'keyring.get_password("https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", "u")\n'
        'steps["look-alike get_credential"] = loaded()',
    )
    report = run_script(tmp_path, script)
    assert "pydantic" in report["steps"]["look-alike get_credential"]
