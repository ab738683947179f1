"""Real poetry, pdm, hatch, uv projects and keyring tool installs against the fake.

Each tool lives in its own virtual environment with keyring and this checkout, made by
`tests/tools/install.py` before pytest runs (the README's test command does that), so
the tests themselves reach 127.0.0.1 only. A missing environment fails the test; nothing
is skipped. Everything the tools do runs in the e2e sandbox: clean environment, the fake only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from e2e.conftest import Sandbox, make_sandbox

from keyrings.azure_artifacts.testing import FakeAzure

from .install import DEFAULT_DIR, PIPX, TOOLS, UV_TOOL

if TYPE_CHECKING:
    from helpers import CleanEnv

ENV_DIR = "AAK_TOOLS_DIR"  # where tests/tools/install.py put the tools (default: <repo>/.tools)


@dataclass
class ToolVenvs:
    """The environments `tests/tools/install.py` made; a missing one fails the test, with the fix."""

    root: Path

    def _ready(self, name: str) -> Path:
        target = self.root / name
        if not (target / ".ready").exists():
            pytest.fail(f"{target} is missing: run `python tests/tools/install.py` before pytest")
        return target

    def bin(self, tool: str) -> Path:
        assert tool in TOOLS
        return self._ready(tool) / "bin"

    def uv_tool_keyring(self) -> Path:
        """`uv tool install keyring --with keyrings.azure-artifacts`, the README's system-wide install."""
        return self._ready(UV_TOOL) / "bin"

    def pipx_keyring(self) -> Path:
        """`pipx install keyring && pipx inject keyring keyrings.azure-artifacts`."""
        return self._ready(PIPX) / "bin"


@pytest.fixture(scope="session")
def tool_venvs() -> ToolVenvs:
    return ToolVenvs(Path(os.environ.get(ENV_DIR) or DEFAULT_DIR))


@pytest.fixture
def tool_box(fake_azure: FakeAzure, clean_env: CleanEnv) -> Sandbox:
    """The e2e sandbox (clean env, config for the fake's host) with a service principal."""
    box = make_sandbox(fake_azure, clean_env)
    box.use_service_principal()
    return box
