"""uv projects with the README's system-wide keyring (`uv tool install keyring --with ...`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from e2e.conftest import FEED, ORG, PACKAGE, Sandbox

from keyrings.azure_artifacts.testing import build_wheel, wheel_filename

from .conftest import ToolVenvs
from .install import uv as uv_binary

pytestmark = pytest.mark.e2e


def project_env(box: Sandbox, tool_bin: Path) -> dict[str, str]:
    """uv reading the project's settings (no UV_NO_CONFIG), the uv-tool `keyring` first on PATH."""
    env = {k: v for k, v in box.env.items() if k != "UV_NO_CONFIG"}
    env["PATH"] = f"{tool_bin}:{env['PATH']}"
    env["UV_PYTHON"] = sys.executable
    return env


def write_project(
    box: Sandbox, index_url: str, *, publish_url: str = "", authenticate: str = "always"
) -> Path:
    project = box.root / "app"
    project.mkdir(exist_ok=True)
    publish = f'publish-url = "{publish_url}"\n' if publish_url else ""
    auth = f'authenticate = "{authenticate}"\n' if authenticate else ""
    (project / "pyproject.toml").write_text(
        f"""\
[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.9"
dependencies = ["{PACKAGE}"]

[tool.uv]
package = false
keyring-provider = "subprocess"

[[tool.uv.index]]
name = "azure"
url = "{index_url}"
{publish}default = true
{auth}""",
        encoding="utf-8",
    )
    return project


@pytest.mark.parametrize("installer", ["uv tool", "pipx"])
def test_system_wide_keyring_finds_the_backend(
    tool_box: Sandbox, tool_venvs: ToolVenvs, installer: str
) -> None:
    """`keyring get` from a uv-tool or pipx install prints exactly the session token and nothing else."""
    bins = tool_venvs.uv_tool_keyring() if installer == "uv tool" else tool_venvs.pipx_keyring()
    keyring = bins / "keyring"
    box = tool_box

    backends = box.run([str(keyring), "--list-backends"], timeout=60)
    got = box.run([str(keyring), "get", box.index_url, "VssSessionToken"], timeout=60)

    assert "AzureArtifactsKeyring" in backends.stdout
    assert got.returncode == 0, got.stderr
    [session] = box.fake.issued("session")
    assert got.stdout == session.secret + "\n"


def test_uv_sync_and_publish_with_the_username_in_the_index_url(
    tool_box: Sandbox, tool_venvs: ToolVenvs
) -> None:
    """[[tool.uv.index]] with `VssSessionToken@` and authenticate = "always": sync, then publish."""
    tool_bin = tool_venvs.uv_tool_keyring()
    box = tool_box
    upload = box.upload_url.replace("https://", "https://VssSessionToken@", 1)
    project = write_project(box, box.index_url_with_user(), publish_url=upload)
    env = project_env(box, tool_bin)

    synced = box.run([uv_binary(), "sync"], env=env, cwd=project)

    assert synced.returncode == 0, synced.stderr
    [site] = project.glob(".venv/lib/python*/site-packages")
    assert (site / "demo_pkg" / "__init__.py").is_file()
    fake = box.fake
    assert fake.count("download", status=200, auth_kind="session", scopes=("vso.packaging",)) >= 1
    assert fake.count("session_token") == 1

    dist = project / "dist"
    dist.mkdir()
    (dist / wheel_filename(PACKAGE, "6.0.0")).write_bytes(build_wheel(PACKAGE, "6.0.0"))
    published = box.run([uv_binary(), "publish", "--index", "azure", str(dist / "*")], env=env, cwd=project)

    assert published.returncode == 0, published.stderr
    assert fake.count("upload", status=200, auth_kind="session", scopes=("vso.packaging_write",)) == 1
    assert (PACKAGE, "6.0.0") in fake.packages(ORG, FEED)


def test_uv_sync_without_a_username_but_authenticate_always(tool_box: Sandbox, tool_venvs: ToolVenvs) -> None:
    """uv 0.13 with authenticate = "always" and no username runs `keyring get URL --mode creds`: it works."""
    tool_bin = tool_venvs.uv_tool_keyring()
    box = tool_box
    project = write_project(box, box.index_url)

    synced = box.run([uv_binary(), "sync"], env=project_env(box, tool_bin), cwd=project)

    assert synced.returncode == 0, synced.stderr
    assert list(project.glob(".venv/lib/python*/site-packages/demo_pkg"))
    assert box.fake.count("simple", status=200, auth_kind="session") >= 1


def test_uv_sync_without_a_username_or_authenticate_never_asks_keyring(
    tool_box: Sandbox, tool_venvs: ToolVenvs
) -> None:
    """Pinned: with neither a username nor authenticate = "always" uv skips keyring; the 401 stands."""
    tool_bin = tool_venvs.uv_tool_keyring()
    box = tool_box
    project = write_project(box, box.index_url, authenticate="")

    synced = box.run([uv_binary(), "sync"], env=project_env(box, tool_bin), cwd=project)

    assert synced.returncode != 0
    assert "401 Unauthorized" in synced.stderr
    fake = box.fake
    assert fake.count("session_token") == 0
    assert fake.count("simple", status=200) == 0
    assert not list(project.glob(".venv/lib/python*/site-packages/demo_pkg"))
