"""poetry 2: a private source resolves through the backend; `poetry publish` uploads with it."""

from __future__ import annotations

import pytest
from e2e.conftest import FEED, ORG, PACKAGE, Sandbox

from keyrings.azure_artifacts.testing import build_wheel, wheel_filename

from .conftest import ToolVenvs

pytestmark = pytest.mark.e2e


def poetry_env(box: Sandbox) -> dict[str, str]:
    return {
        **box.env,
        "POETRY_VIRTUALENVS_IN_PROJECT": "true",
        "POETRY_CACHE_DIR": str(box.root / "cache" / "poetry"),
        "POETRY_NO_INTERACTION": "1",
    }


def test_poetry_install_from_a_private_source(tool_box: Sandbox, tool_venvs: ToolVenvs) -> None:
    """A primary [[tool.poetry.source]] on the feed: lock and install with a read session token."""
    poetry = tool_venvs.bin("poetry") / "poetry"
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

[tool.poetry]
package-mode = false

[[tool.poetry.source]]
name = "azure"
url = "{box.index_url}"
priority = "primary"
""",
        encoding="utf-8",
    )

    result = box.run([str(poetry), "install", "-vv"], env=poetry_env(box), cwd=project)

    assert result.returncode == 0, result.stdout + result.stderr
    [site] = project.glob(".venv/lib/python*/site-packages")
    assert (site / "demo_pkg" / "__init__.py").is_file()
    fake = box.fake
    assert fake.count("download", status=200, auth_kind="session", scopes=("vso.packaging",)) >= 1
    assert fake.count("session_token", status=200) == 1
    assert f'name = "{PACKAGE}"' in (project / "poetry.lock").read_text(encoding="utf-8")


def test_poetry_publish_to_the_upload_url(tool_box: Sandbox, tool_venvs: ToolVenvs) -> None:
    """`poetry publish -r azure` with only the repository URL configured: a write-scoped token."""
    poetry = tool_venvs.bin("poetry") / "poetry"
    box = tool_box
    project = box.root / "lib"
    (project / "dist").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "{PACKAGE}"\nversion = "3.0.0"\n', encoding="utf-8"
    )
    (project / "dist" / wheel_filename(PACKAGE, "3.0.0")).write_bytes(build_wheel(PACKAGE, "3.0.0"))
    env = {**poetry_env(box), "POETRY_REPOSITORIES_AZURE_URL": box.upload_url}

    result = box.run([str(poetry), "publish", "-r", "azure", "-vv"], env=env, cwd=project)

    assert result.returncode == 0, result.stdout + result.stderr
    fake = box.fake
    assert fake.count("upload", status=200, auth_kind="session", scopes=("vso.packaging_write",)) == 1
    assert (PACKAGE, "3.0.0") in fake.packages(ORG, FEED)
