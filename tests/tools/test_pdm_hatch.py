"""pdm and hatch: install from and publish to the feed with credentials from the backend."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from e2e.conftest import FEED, ORG, PACKAGE, Sandbox

from keyrings.azure_artifacts.testing import build_wheel, wheel_filename

from .conftest import ToolVenvs
from .install import uv as uv_binary

pytestmark = pytest.mark.e2e


def pdm_env(box: Sandbox, project: Path) -> dict[str, str]:
    """pdm pinned to the project's own .venv (made here), never to the interpreter running the tests."""
    venv = project / ".venv"
    if not venv.exists():
        made = box.run([uv_binary(), "venv", "-q", "--python", sys.executable, str(venv)], timeout=60)
        assert made.returncode == 0, made.stderr
    return {
        **box.env,
        "PDM_CHECK_UPDATE": "false",
        "PDM_NON_INTERACTIVE": "1",
        "PDM_CACHE_DIR": str(box.root / "cache" / "pdm"),
        "PDM_PYTHON": str(venv / "bin" / "python"),
    }


def dist_project(box: Sandbox, version: str) -> Path:
    """A project directory whose dist/ holds a built wheel of demo-pkg `version`."""
    project = box.root / "lib"
    (project / "dist").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "{PACKAGE}"\nversion = "{version}"\n', encoding="utf-8"
    )
    (project / "dist" / wheel_filename(PACKAGE, version)).write_bytes(build_wheel(PACKAGE, version))
    return project


def test_pdm_install_from_a_source_named_pypi(tool_box: Sandbox, tool_venvs: ToolVenvs) -> None:
    """[[tool.pdm.source]] named `pypi` replaces PyPI: lock and install with a read session token."""
    pdm = tool_venvs.bin("pdm") / "pdm"
    box = tool_box
    project = box.root / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        f"""\
[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.9"
dependencies = ["{PACKAGE}"]

[tool.pdm]
distribution = false

[[tool.pdm.source]]
name = "pypi"
url = "{box.index_url}"
""",
        encoding="utf-8",
    )

    result = box.run([str(pdm), "install", "-v"], env=pdm_env(box, project), cwd=project)

    assert result.returncode == 0, result.stdout + result.stderr
    [site] = project.glob(".venv/lib/python*/site-packages")
    assert (site / "demo_pkg" / "__init__.py").is_file()
    fake = box.fake
    assert fake.count("download", status=200, auth_kind="session", scopes=("vso.packaging",)) >= 1
    assert fake.count("session_token", status=200) == 1


def test_pdm_publish_to_the_upload_url(tool_box: Sandbox, tool_venvs: ToolVenvs) -> None:
    """`pdm publish --no-build -r UPLOAD_URL` with no username or password configured."""
    pdm = tool_venvs.bin("pdm") / "pdm"
    box = tool_box
    project = dist_project(box, "4.0.0")

    result = box.run(
        [str(pdm), "publish", "--no-build", "-v", "-r", box.upload_url],
        env=pdm_env(box, project),
        cwd=project,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    fake = box.fake
    assert fake.count("upload", status=200, auth_kind="session", scopes=("vso.packaging_write",)) == 1
    assert (PACKAGE, "4.0.0") in fake.packages(ORG, FEED)


def test_hatch_publish_to_the_upload_url(tool_box: Sandbox, tool_venvs: ToolVenvs) -> None:
    """`hatch publish -r UPLOAD_URL -u VssSessionToken`: hatch asks keyring for that user's password."""
    hatch = tool_venvs.bin("hatch") / "hatch"
    box = tool_box
    project = dist_project(box, "5.0.0")
    env = {**box.env, "HATCH_DATA_DIR": str(box.root / "data" / "hatch")}

    result = box.run(
        [str(hatch), "publish", "-n", "-r", box.upload_url, "-u", "VssSessionToken"], env=env, cwd=project
    )

    assert result.returncode == 0, result.stdout + result.stderr
    fake = box.fake
    assert fake.count("upload", status=200, auth_kind="session", scopes=("vso.packaging_write",)) == 1
    assert (PACKAGE, "5.0.0") in fake.packages(ORG, FEED)


def test_hatch_publish_without_a_username_does_not_ask_keyring(
    tool_box: Sandbox, tool_venvs: ToolVenvs
) -> None:
    """Pinned: with no user hatch never calls keyring; it needs `-u` / HATCH_INDEX_USER."""
    hatch = tool_venvs.bin("hatch") / "hatch"
    box = tool_box
    project = dist_project(box, "5.0.1")
    env = {**box.env, "HATCH_DATA_DIR": str(box.root / "data" / "hatch")}

    result = box.run([str(hatch), "publish", "-n", "-r", box.upload_url], env=env, cwd=project)

    assert result.returncode != 0
    assert "Missing required option: user" in result.stdout + result.stderr
    assert box.fake.count("session_token") == 0
    assert (PACKAGE, "5.0.1") not in box.fake.packages(ORG, FEED)
