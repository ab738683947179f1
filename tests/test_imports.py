"""Every process that resolves a keyring imports our backend: it must stay light."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import CleanEnv

HEAVY = ("pydantic", "msal", "msal_extensions", "azure.identity", "requests", "truststore", "certifi")

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


def run_script(clean_env: CleanEnv, script: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=clean_env(), timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_foreign_lookups_import_nothing_heavy(clean_env: CleanEnv) -> None:
    report = run_script(clean_env, SCRIPT)
    assert "AzureArtifactsKeyring" in report["backends"], (
        "the backend was not loaded: this test proves nothing"
    )
    assert report["steps"] == {"get_keyring": [], "foreign get_password": [], "look-alike get_credential": []}


def test_foreign_lookups_stay_light_with_a_config_file(clean_env: CleanEnv) -> None:
    """Reading `host` sections for a foreign URL must not pull pydantic in either."""
    config = clean_env.keyring_config
    config.parent.mkdir(parents=True)
    config.write_text(
        '[artifacts]\nauth = pat\npat_duration = P90D\n[artifacts host="devops.example.com"]\nauth = bearer\n',
        encoding="utf-8",
    )
    report = run_script(clean_env, SCRIPT)
    assert "AzureArtifactsKeyring" in report["backends"]
    assert all(step == [] for step in report["steps"].values()), report["steps"]


def test_the_check_can_fail(clean_env: CleanEnv) -> None:
    """The same probe sees pydantic once a lookup for one of our URLs validates the config.

    The config is invalid on purpose, so the lookup stops before any credential flow or network.
    """
    config = clean_env.keyring_config
    config.parent.mkdir(parents=True)
    config.write_text("[artifacts]\nauth = nonsense\n", encoding="utf-8")
    script = SCRIPT.replace(
        'steps["look-alike get_credential"] = loaded()',
        'keyring.get_password("https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", "u")\n'
        'steps["look-alike get_credential"] = loaded()',
    )
    report = run_script(clean_env, script)
    assert "pydantic" in report["steps"]["look-alike get_credential"]
