"""`azure-artifacts-keyring setup` in a fresh home / project, then the real tool installs and publishes.

Nothing but what `setup` wrote tells each tool where the feed is: no --index-url, no
-r URL, no username on the command line. The fake feed counts what each tool sent.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from e2e.conftest import FEED, ORG, PACKAGE, Sandbox

from keyrings.azure_artifacts.testing import build_wheel, wheel_filename

from .conftest import ToolVenvs
from .install import uv as uv_binary
from .test_pdm_hatch import pdm_env
from .test_pip_config import PUBLIC, public_index  # noqa: F401  (a fixture)
from .test_poetry import poetry_env
from .test_uv_projects import project_env

pytestmark = pytest.mark.e2e

NAME = f"{ORG}-{FEED}"  # the name setup gives the feed in every tool's file


def setup(box: Sandbox, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    """Run `azure-artifacts-keyring setup` as a user would; returns its stdout."""
    done = box.run(
        [sys.executable, "-m", "keyrings.azure_artifacts", "setup", box.index_url, *args], env=env, cwd=cwd
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def app(box: Sandbox, extra: str = "") -> Path:
    """A project that depends on the feed's package and is not itself installed."""
    project = box.root / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        f'# my app\n[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n'
        f'dependencies = ["{PACKAGE}"]\n{extra}',
        encoding="utf-8",
    )
    return project


def lib(box: Sandbox, version: str) -> Path:
    """A project with a built wheel of demo-pkg `version` in dist/."""
    project = box.root / "lib"
    (project / "dist").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "{PACKAGE}"\nversion = "{version}"\n', encoding="utf-8"
    )
    (project / "dist" / wheel_filename(PACKAGE, version)).write_bytes(build_wheel(PACKAGE, version))
    return project


def assert_installed(box: Sandbox, site: Path) -> None:
    assert (site / "demo_pkg" / "__init__.py").is_file()
    assert box.fake.count("download", status=200, auth_kind="session", scopes=("vso.packaging",)) >= 1


def assert_published(box: Sandbox, version: str) -> None:
    fake = box.fake
    assert fake.count("upload", status=200, auth_kind="session", scopes=("vso.packaging_write",)) == 1
    assert (PACKAGE, version) in fake.packages(ORG, FEED)


def test_pip_primary_from_the_user_pip_conf(tool_box: Sandbox) -> None:
    box = tool_box
    env = {k: v for k, v in box.env.items() if k != "PIP_CONFIG_FILE"}  # pip reads the user's file
    setup(box, "--tool", "pip", "--primary", env=env)
    target = box.root / "target"

    done = box.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-cache-dir",
            "--target",
            str(target),
            PACKAGE,
        ],
        env={**env, "PIP_NO_INPUT": "1"},  # a CI job: pip's default provider would never ask keyring
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert_installed(box, target)
    conf = Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf"
    assert conf.read_text(encoding="utf-8") == (
        f"[global]\nindex-url = {box.index_url}\nkeyring-provider = import\n"
    )


def test_pip_extra_index_next_to_an_existing_index(
    tool_box: Sandbox,
    public_index: tuple[str, list[str]],  # noqa: F811
) -> None:
    """The user's pip.conf already names a (public) index: setup adds the feed as an extra one."""
    box = tool_box
    public_url, authorizations = public_index
    env = {k: v for k, v in box.env.items() if k != "PIP_CONFIG_FILE"}
    conf = Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(f"# company mirror\n[global]\nindex-url = {public_url}\n", encoding="utf-8")
    setup(box, "--tool", "pip", env=env)
    target = box.root / "target"

    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-cache-dir", "--target", str(target)]
    done = box.run([*pip, PACKAGE, PUBLIC], env=env)

    assert done.returncode == 0, done.stdout + done.stderr
    assert_installed(box, target)
    assert (target / "public_pkg").is_dir()
    assert authorizations and not any(authorizations)  # the public index never saw a credential
    assert conf.read_text(encoding="utf-8").startswith(
        f"# company mirror\n[global]\nindex-url = {public_url}\n"
    )


def test_uv_sync_and_publish(tool_box: Sandbox, tool_venvs: ToolVenvs) -> None:
    box = tool_box
    env = project_env(box, tool_venvs.uv_tool_keyring())
    project = app(box, "\n[tool.uv]\npackage = false\n")
    done = box.run(
        [
            sys.executable,
            "-m",
            "keyrings.azure_artifacts",
            "setup",
            box.index_url,
            "--tool",
            "uv",
            "--primary",
        ],
        env=env,
        cwd=project,
    )
    assert done.returncode == 0, done.stderr
    assert "note:" not in done.stderr  # the uv-tool `keyring` on PATH has the backend

    synced = box.run([uv_binary(), "sync"], env=env, cwd=project)

    assert synced.returncode == 0, synced.stderr
    [site] = project.glob(".venv/lib/python*/site-packages")
    assert_installed(box, site)

    (project / "dist").mkdir()
    (project / "dist" / wheel_filename(PACKAGE, "7.1.0")).write_bytes(build_wheel(PACKAGE, "7.1.0"))
    published = box.run([uv_binary(), "publish", "--index", NAME, "dist/*"], env=env, cwd=project)

    assert published.returncode == 0, published.stderr
    assert_published(box, "7.1.0")


def test_poetry_install_and_publish(tool_box: Sandbox, tool_venvs: ToolVenvs) -> None:
    poetry = str(tool_venvs.bin("poetry") / "poetry")
    box = tool_box
    env = poetry_env(box)
    project = app(box, "\n[tool.poetry]\npackage-mode = false\n")
    setup(box, "--tool", "poetry", "--primary", cwd=project)

    installed = box.run([poetry, "install"], env=env, cwd=project)

    assert installed.returncode == 0, installed.stdout + installed.stderr
    [site] = project.glob(".venv/lib/python*/site-packages")
    assert_installed(box, site)

    package = lib(box, "7.2.0")
    out = setup(box, "--tool", "poetry", cwd=package)
    published = box.run([poetry, "publish", "-r", NAME], env=env, cwd=package)

    assert f"publish with: poetry publish -r {NAME}" in out
    assert published.returncode == 0, published.stdout + published.stderr
    assert_published(box, "7.2.0")


def test_pdm_install_and_publish(tool_box: Sandbox, tool_venvs: ToolVenvs) -> None:
    pdm = str(tool_venvs.bin("pdm") / "pdm")
    box = tool_box
    project = app(box, "\n[tool.pdm]\ndistribution = false\n")
    setup(box, "--tool", "pdm", "--primary", cwd=project)

    installed = box.run([pdm, "install"], env=pdm_env(box, project), cwd=project)

    assert installed.returncode == 0, installed.stdout + installed.stderr
    [site] = project.glob(".venv/lib/python*/site-packages")
    assert_installed(box, site)

    package = lib(box, "7.3.0")
    setup(box, "--tool", "pdm", cwd=package)
    published = box.run([pdm, "publish", "--no-build", "-r", NAME], env=pdm_env(box, package), cwd=package)

    assert published.returncode == 0, published.stdout + published.stderr
    assert_published(box, "7.3.0")


def test_hatch_environment_and_publish(tool_box: Sandbox, tool_venvs: ToolVenvs) -> None:
    """hatch's environment pip finds the feed in env-vars and its credential through the `keyring`
    on PATH; `hatch publish -r NAME` takes URL and user from hatch's config.toml."""
    hatch = str(tool_venvs.bin("hatch") / "hatch")
    box = tool_box
    env = {
        **box.env,
        "HATCH_DATA_DIR": str(box.root / "data" / "hatch"),
        "HATCH_CACHE_DIR": str(box.root / "cache" / "hatch"),
        "PATH": f"{tool_venvs.uv_tool_keyring()}:{box.env['PATH']}",
    }
    env.pop("PIP_CONFIG_FILE")  # pip in hatch's environment reads only what hatch hands it, as for a user
    project = app(box, '\n[tool.hatch.envs.default]\nskip-install = true\ndependencies = ["demo-pkg"]\n')
    setup(box, "--tool", "hatch", "--primary", env=env, cwd=project)

    ran = box.run(
        [hatch, "run", "python", "-c", "import demo_pkg, sys; print(demo_pkg.__file__)"], env=env, cwd=project
    )

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert box.fake.count("download", status=200, auth_kind="session") >= 1

    package = lib(box, "7.4.0")
    setup(box, "--tool", "hatch", env=env, cwd=package)
    published = box.run([hatch, "publish", "-n", "-r", NAME], env=env, cwd=package)

    assert published.returncode == 0, published.stdout + published.stderr
    assert_published(box, "7.4.0")


def test_twine_upload_with_the_pypirc_repository(tool_box: Sandbox) -> None:
    box = tool_box
    package = lib(box, "7.5.0")
    setup(box, "--tool", "twine")

    published = box.run(
        [sys.executable, "-m", "twine", "upload", "--non-interactive", "-r", NAME, "dist/*"], cwd=package
    )

    assert published.returncode == 0, published.stdout + published.stderr
    assert_published(box, "7.5.0")
