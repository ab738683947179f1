"""Real pip and twine against the fake feed: the built wheels and the upload format are real."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from keyrings.azure_artifacts.testing import ADO_SCOPE, FakeAzure, build_wheel, wheel_filename

if TYPE_CHECKING:
    from helpers import CleanEnv

pytestmark = pytest.mark.e2e
TIMEOUT = 10


def pip_env(clean_env: CleanEnv, fake: FakeAzure) -> dict[str, str]:
    """No user config, no keyring, only the fake's CA: pip sees nothing but the URL."""
    return clean_env(ca=fake.ca_path, PIP_NO_INPUT="1", PIP_KEYRING_PROVIDER="disabled")


def session_token(fake: FakeAzure, scope: str) -> str:
    access = fake.access_token()
    response = requests.post(
        f"{fake.base_url}/contoso/_apis/Token/SessionTokens?api-version=5.0-preview.1",
        json={"displayName": "pip test", "scope": scope},
        headers={"Authorization": f"Bearer {access}"},
        verify=fake.ca_path,
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    return str(response.json()["token"])


def index_with_credentials(fake: FakeAzure, secret: str) -> str:
    return fake.feed_url("contoso", "main").replace("https://", f"https://user:{secret}@")


def pip_install(fake: FakeAzure, clean_env: CleanEnv, secret: str, requirement: str) -> Path:
    target = clean_env.root / "target"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-cache-dir",
            "--target",
            str(target),
            "--index-url",
            index_with_credentials(fake, secret),
            requirement,
        ],
        env=pip_env(clean_env, fake),
        check=True,
        capture_output=True,
        timeout=180,
    )
    return target


def test_pip_installs_the_built_wheel(fake_azure: FakeAzure, clean_env: CleanEnv) -> None:
    secret = session_token(fake_azure, "vso.packaging")
    target = pip_install(fake_azure, clean_env, secret, "demo-pkg==1.0.0")
    assert '__version__ = "1.0.0"' in (target / "demo_pkg" / "__init__.py").read_text()
    assert fake_azure.count("download", status=200, auth_kind="session") == 1


def test_twine_upload_then_pip_install(fake_azure: FakeAzure, tmp_path: Path, clean_env: CleanEnv) -> None:
    assert ADO_SCOPE  # the upload below goes through a write-scoped session token
    secret = session_token(fake_azure, "vso.packaging_write")
    dist = tmp_path / "dist"
    dist.mkdir()
    wheel = dist / wheel_filename("uploaded-pkg", "2.1.0")
    wheel.write_bytes(build_wheel("uploaded-pkg", "2.1.0"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--repository-url",
            fake_azure.upload_url("contoso", "main"),
            "--cert",
            fake_azure.ca_path,
            "-u",
            "user",
            "-p",
            secret,
            str(wheel),
        ],
        env=pip_env(clean_env, fake_azure),
        check=True,
        capture_output=True,
        timeout=180,
    )
    assert ("uploaded-pkg", "2.1.0") in fake_azure.packages("contoso", "main")
    target = pip_install(fake_azure, clean_env, secret, "uploaded-pkg==2.1.0")
    assert (target / "uploaded_pkg" / "__init__.py").exists()


def test_uv_publish_with_an_entra_token(fake_azure: FakeAzure, tmp_path: Path, clean_env: CleanEnv) -> None:
    wheel = tmp_path / wheel_filename("uv-pkg", "0.3.0")
    wheel.write_bytes(build_wheel("uv-pkg", "0.3.0"))
    env = clean_env(ca=fake_azure.ca_path)
    uv = Path(sys.executable).with_name("uv")
    subprocess.run(
        [
            str(uv) if uv.exists() else "uv",
            "publish",
            "--publish-url",
            fake_azure.upload_url("contoso", "main"),
            "--username",
            "user",
            "--password",
            fake_azure.access_token(),
            str(wheel),
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )
    assert ("uv-pkg", "0.3.0") in fake_azure.packages("contoso", "main")
    assert fake_azure.count("upload", status=200, auth_kind="entra") == 1
