"""The warm path: a second process finds the cached secret without importing the heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from keyrings.azure_artifacts.testing import FakeAzure

if TYPE_CHECKING:
    from conftest import CleanEnv

HEAVY = [
    "pydantic",
    "msal",
    "msal_extensions",
    "azure.identity",
    "azure.core",
    "requests",
    "urllib3",
    "truststore",
    "certifi",
    "keyrings.azure_artifacts.tls",
]
APP_ID = "00000000-0000-0000-0000-0000000000aa"

PROBE = """
import json, sys
import keyring
from keyrings.azure_artifacts.backend import AzureArtifactsKeyring
names = [type(b).__name__ for b in keyring.backend.get_all_keyring()]
secret = AzureArtifactsKeyring().get_password(sys.argv[1], "someone")
heavy = [m for m in sys.argv[2].split(",") if m in sys.modules]
print(json.dumps({"secret": secret, "heavy": heavy, "backends": names}))
"""


def run_probe(url: str, env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, url, ",".join(HEAVY)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.fixture
def setup(clean_env: CleanEnv) -> Iterator[tuple[FakeAzure, dict[str, str], str]]:
    fake = FakeAzure().start()
    fake.add_org("contoso")
    fake.add_feed("contoso", "main")
    fake.add_app(APP_ID, secret="app-secret-value")
    env = clean_env(
        f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\n',
        ca=fake.ca_path,
        AZURE_TENANT_ID=fake.default_tenant,
        AZURE_CLIENT_ID=APP_ID,
        AZURE_CLIENT_SECRET="app-secret-value",
    )
    yield fake, env, fake.feed_url("contoso", "main")
    fake.stop()


def test_second_process_takes_the_warm_path(setup: tuple[FakeAzure, dict[str, str], str]) -> None:
    fake, env, url = setup
    cold = run_probe(url, env)
    assert "AzureArtifactsKeyring" in cold["backends"]
    assert cold["secret"] and "requests" in cold["heavy"]  # the cold path really did the work
    fake.clear_log()
    warm = run_probe(url, env)
    assert warm["secret"] == cold["secret"]
    assert warm["heavy"] == []
    assert fake.count() == 0


def test_config_change_leaves_the_warm_path(setup: tuple[FakeAzure, dict[str, str], str]) -> None:
    fake, env, url = setup
    run_probe(url, env)
    config = Path(env["KEYRINGS_AZURE_ARTIFACTS_CONFIG"])
    config.write_text(config.read_text() + "auth = bearer\n")
    changed = run_probe(url, env)
    assert "requests" in changed["heavy"]  # the decision was made again: the full path ran
    assert fake.count("token") >= 1
    issued = fake.lookup(str(changed["secret"]))
    assert issued is not None and issued.kind == "access"  # bearer now: the Entra token itself
