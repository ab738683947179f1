"""The artifacts we would publish: the sdist builds a wheel that holds the package and nothing else.

The build runs offline with the setuptools installed next to pytest (the `dev` extra), the way
`python -m build` does it: an sdist from the checkout's files, then a wheel from the unpacked
sdist, so a file missing from the sdist (the license, say) shows here too. `twine check --strict`
then reads both, as PyPI would.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest

import keyrings.azure_artifacts

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md")
BUILD_TIMEOUT = 300  # a hang guard for a cold setuptools on a loaded runner


def _backend(call: str, cwd: Path, out: Path) -> Path:
    script = f"import sys; from setuptools import build_meta; print(build_meta.{call}(sys.argv[1]))"
    done = subprocess.run(
        [sys.executable, "-c", script, str(out)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out / done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel) built from a copy of the checkout's packaged files."""
    tmp = tmp_path_factory.mktemp("packaging")
    src, out = tmp / "src", tmp / "dist"
    src.mkdir()
    for name in SOURCES:
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(ROOT / "keyrings", src / "keyrings", ignore=ignore)
    sdist = _backend("build_sdist", src, out)
    with tarfile.open(sdist) as archive:
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(tmp / "unpacked", **safe)  # type: ignore[arg-type]
    (unpacked,) = (tmp / "unpacked").iterdir()
    wheel = _backend("build_wheel", unpacked, out)
    return sdist, wheel


def _metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode())


def test_the_wheel_holds_the_package_typing_marker_and_license_and_no_tests(dist: tuple[Path, Path]) -> None:
    _, wheel = dist
    names = zipfile.ZipFile(wheel).namelist()
    for required in (
        "keyrings/azure_artifacts/__init__.py",
        "keyrings/azure_artifacts/backend.py",
        "keyrings/azure_artifacts/py.typed",
        "keyrings/azure_artifacts/testing/server.py",
    ):
        assert required in names
    (license_file,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read(license_file) == (ROOT / "LICENSE").read_bytes()
    # Only our package and its dist-info; `keyrings` stays a namespace shared with other plugins.
    dist_info = "-".join(wheel.name.split("-")[:2]) + ".dist-info"
    assert {n.split("/")[0] for n in names} == {"keyrings", dist_info}
    assert "keyrings/__init__.py" not in names
    assert not [n for n in names if re.search(r"(^|/)(tests?|benchmarks|examples)/|\.pyc$|conftest", n)]


def test_metadata_has_the_one_version_the_license_expression_and_each_python(dist: tuple[Path, Path]) -> None:
    _, wheel = dist
    meta = _metadata(wheel)
    assert meta["Version"] == keyrings.azure_artifacts.__version__
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert not [c for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]  # PEP 639
    assert meta["Requires-Python"] == ">=3.9"
    assert _classifier_versions(meta) == _tox_versions()


def _classifier_versions(meta: Message) -> list[str]:
    prefix = "Programming Language :: Python :: "
    found = [c[len(prefix) :] for c in meta.get_all("Classifier") or [] if c.startswith(prefix)]
    return [v for v in found if re.fullmatch(r"3\.\d+", v)]


def _tox_versions() -> list[str]:
    """Each classifier's Python has its own tox env (py39 ... py313): what we claim, we test."""
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    envs = [e.strip() for e in tox["tox"]["env_list"].replace("\n", ",").split(",")]
    return [f"3.{e[3:]}" for e in envs if re.fullmatch(r"py3\d+", e)]


def test_the_sdist_carries_the_license(dist: tuple[Path, Path]) -> None:
    sdist, _ = dist
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"LICENSE", "README.md", "pyproject.toml", "keyrings/azure_artifacts/py.typed"} <= names


def test_twine_check_strict_passes_on_both(dist: tuple[Path, Path]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, dist)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2
