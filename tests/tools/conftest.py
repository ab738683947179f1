"""Real poetry, pdm, hatch, uv projects and keyring tool installs against the fake.

Each tool lives in its own virtual environment with keyring and this package (built
from the working tree), the way a user installs it. The environments are made once
per test run with uv (seconds, not minutes) and shared between xdist workers under a
file lock. Installing them needs PyPI; when that fails the tests fail, they do not skip.
Everything the tools then do runs in the e2e sandbox: clean environment, the fake only.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e.conftest import VENV_BIN, Sandbox, clean_env, keyring_config_path

from keyrings.azure_artifacts.testing import FakeAzure

REPO = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT = 600

# Versions checked here; pdm 2.29.3 crashes with unearth 0.19 / hishel 2.
TOOLS: dict[str, tuple[str, ...]] = {
    "poetry": ("poetry==2.5.1",),
    "pdm": ("pdm==2.29.3", "unearth<0.19", "hishel<2"),
    "hatch": ("hatch==1.18.2",),
}


def uv_binary() -> str:
    found = VENV_BIN / "uv"
    return str(found) if found.exists() else "uv"


def _install_env(root: Path) -> dict[str, str]:
    """The caller's environment (proxies, index settings to reach PyPI) minus keyring overrides."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON_KEYRING_BACKEND", "VIRTUAL_ENV")}
    env["UV_CACHE_DIR"] = str(root / "uv-cache")
    env["UV_PYTHON_DOWNLOADS"] = "never"
    return env


def _run_install(args: Sequence[str], env: dict[str, str]) -> None:
    result = subprocess.run(
        list(args), env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"installing a tool failed: {' '.join(args)}\n{result.stdout}\n{result.stderr}")


@dataclass
class ToolVenvs:
    """Creates `<root>/<tool>` once (under a lock shared by xdist workers) and returns its bin dir."""

    root: Path

    def bin(self, tool: str) -> Path:
        target = self.root / tool
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / f"{tool}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (target / ".ready").exists():
                env = _install_env(self.root)
                _run_install(
                    [uv_binary(), "venv", "-q", "--clear", "--python", sys.executable, str(target)], env
                )
                _run_install(
                    [
                        uv_binary(),
                        "pip",
                        "install",
                        "-q",
                        "--python",
                        str(target / "bin" / "python"),
                        *TOOLS[tool],
                        str(REPO),
                    ],
                    env,
                )
                (target / ".ready").touch()
        return target / "bin"

    def uv_tool_keyring(self) -> Path:
        """`uv tool install keyring --with keyrings.azure-artifacts`, the README's system-wide install."""
        tools, bins = self.root / "uv-tools", self.root / "uv-tool-bin"
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "uv-tool.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (bins / "keyring").exists():
                env = {**_install_env(self.root), "UV_TOOL_DIR": str(tools), "UV_TOOL_BIN_DIR": str(bins)}
                _run_install(
                    [
                        uv_binary(),
                        "tool",
                        "install",
                        "--python",
                        sys.executable,
                        "keyring",
                        "--with",
                        str(REPO),
                    ],
                    env,
                )
        return bins


@pytest.fixture(scope="session")
def tool_venvs(tmp_path_factory: pytest.TempPathFactory) -> ToolVenvs:
    # The parent of the per-worker base temp is shared by all xdist workers of this run.
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return ToolVenvs(shared / "tool-venvs")


@pytest.fixture
def tool_box(fake_azure: FakeAzure, tmp_path: Path) -> Iterator[Sandbox]:
    """The e2e sandbox (clean env, config for the fake's host) with a service principal."""
    if sys.platform == "win32":
        pytest.skip("the sandbox uses POSIX wrappers and PATH")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = clean_env(tmp_path, fake_azure, bin_dir)
    box = Sandbox(fake_azure, tmp_path, env, bin_dir, keyring_config_path(env))
    box.write_config()
    box.use_service_principal()
    yield box
