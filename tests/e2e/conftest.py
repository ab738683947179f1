"""A sandbox for running real pip, uv, twine and keyring against the fake server.

Every tool runs in a subprocess whose environment is built from scratch by the `clean_env`
fixture (tests/conftest.py): its own HOME and XDG directories, the fake's CA as the only
extra trust, no pip/uv/twine configuration from the machine, and a PATH that holds only
this interpreter's bin directory (so it works from /tmp/venv as well as CI's `.venv`) plus
a tmp bin directory for wrappers (no /usr/bin: a real `az` there would join the chain).
Nothing can reach the user's keyring, caches or the internet, and managed identity never
probes 169.254.169.254.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import pytest

from keyrings.azure_artifacts.testing import FakeAzure

if TYPE_CHECKING:
    from helpers import CleanEnv

ORG = "contoso"
FEED = "main"
PACKAGE = "demo-pkg"
VENV_BIN = Path(sys.executable).parent
# Generous: a cold pip or uv start on a loaded 2-core runner; each is a hang guard only.
TOOL_TIMEOUT = 120
KEYRING_TIMEOUT = 30


@dataclass
class Sandbox:
    """The fake, a clean environment for subprocesses and helpers to run the tools."""

    fake: FakeAzure
    root: Path
    env: dict[str, str]
    bin_dir: Path
    config_path: Path
    client_id: str = ""
    client_secret: str = field(default="", repr=False)

    @property
    def index_url(self) -> str:
        return self.fake.feed_url(ORG, FEED)

    @property
    def upload_url(self) -> str:
        return self.fake.upload_url(ORG, FEED)

    def index_url_with_user(self, username: str = "VssSessionToken") -> str:
        return self.index_url.replace("https://", f"https://{username}@", 1)

    def write_config(self, **options: str) -> Path:
        """Our section for the fake's host, plus any options (``auth="bearer"``, ...)."""
        lines = [
            f'[artifacts host="{self.fake.host}"]',
            f"authority_host = {self.fake.authority_host}",
            *(f"{name} = {value}" for name, value in options.items()),
        ]
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return self.config_path

    def use_service_principal(self) -> None:
        """An app registered at the fake, handed to the backend through azure-identity's variables."""
        self.client_id = str(uuid.uuid4())
        self.client_secret = "sp-" + uuid.uuid4().hex
        self.fake.add_app(self.client_id, secret=self.client_secret)
        self.env.update(
            AZURE_TENANT_ID=self.fake.default_tenant,
            AZURE_CLIENT_ID=self.client_id,
            AZURE_CLIENT_SECRET=self.client_secret,
        )

    def add_keyring_wrapper(self) -> Path:
        """A `keyring` on PATH outside this venv's bin (pip's subprocess provider skips that one)."""
        wrapper = self.bin_dir / "keyring"
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m keyring "$@"\n', encoding="utf-8")
        wrapper.chmod(0o755)
        return wrapper

    def run(
        self,
        args: Sequence[str],
        *,
        env: Optional[dict[str, str]] = None,
        timeout: float = TOOL_TIMEOUT,
        cwd: Optional[Path] = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args),
            env=self.env if env is None else env,
            cwd=str(cwd or self.root),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def keyring_get(
        self,
        service: Optional[str] = None,
        username: str = "VssSessionToken",
        timeout: float = KEYRING_TIMEOUT,
        **extra_env: str,
    ) -> subprocess.CompletedProcess[str]:
        """`python -m keyring get SERVICE USER`, the call uv makes; extra variables on top of env."""
        return self.run(
            [sys.executable, "-m", "keyring", "get", service or self.index_url, username],
            env={**self.env, **extra_env},
            timeout=timeout,
        )

    def pip_install(
        self, *extra: str, index_url: Optional[str] = None, requirement: str = PACKAGE
    ) -> tuple[subprocess.CompletedProcess[str], Path]:
        target = self.root / f"target-{uuid.uuid4().hex[:8]}"
        result = self.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--no-deps",
                "--no-cache-dir",
                "--disable-pip-version-check",
                "--target",
                str(target),
                "--index-url",
                index_url or self.index_url,
                *extra,
                requirement,
            ]
        )
        return result, target

    def uv(self) -> list[str]:
        """uv from this interpreter's environment (the `uv` PyPI package puts it in bin)."""
        found = shutil.which("uv", path=str(VENV_BIN))
        return [found] if found else [sys.executable, "-m", "uv"]


def make_sandbox(fake: FakeAzure, clean_env: CleanEnv) -> Sandbox:
    """The fake, the clean environment trusting its CA, and a config for its host.

    The config is written where keyring keeps its own keyringrc.cfg, so the backend
    finds it the way it does on a user's machine (no KEYRINGS_AZURE_ARTIFACTS_CONFIG).
    """
    if sys.platform == "win32":
        pytest.skip("the sandbox uses POSIX wrappers and PATH")
    env = clean_env(ca=fake.ca_path)
    box = Sandbox(fake, clean_env.root, env, clean_env.bin_dir, clean_env.keyring_config)
    box.write_config()
    return box


@pytest.fixture
def sandbox(fake_azure: FakeAzure, clean_env: CleanEnv) -> Sandbox:
    """Fake with contoso/main/demo-pkg 1.0.0, a clean env and a config for the fake's host."""
    return make_sandbox(fake_azure, clean_env)


@pytest.fixture
def sp_sandbox(sandbox: Sandbox) -> Sandbox:
    """The sandbox with a service principal in the environment (auth = session by default)."""
    sandbox.use_service_principal()
    return sandbox
