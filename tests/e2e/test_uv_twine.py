"""Real uv and twine with credentials from the backend, checked at the fake."""

from __future__ import annotations

import sys

import pytest

from keyrings.azure_artifacts.testing import build_wheel, wheel_filename

from .conftest import FEED, ORG, PACKAGE, Sandbox

pytestmark = pytest.mark.e2e


def test_uv_subprocess_provider_installs_with_a_session_token(sp_sandbox: Sandbox) -> None:
    """uv asks `keyring get URL VssSessionToken` before its first request; stdout is the password."""
    box = sp_sandbox
    box.add_keyring_wrapper()
    direct = box.keyring_get(box.index_url, "VssSessionToken")
    [session] = box.fake.issued("session")
    assert direct.stdout == session.secret + "\n"

    target = box.root / "uv-target"
    result = box.run(
        [
            *box.uv(),
            "pip",
            "install",
            "--python",
            sys.executable,
            "--target",
            str(target),
            "--no-deps",
            "--keyring-provider",
            "subprocess",
            "--index-url",
            box.index_url_with_user(),
            PACKAGE,
        ]
    )

    assert result.returncode == 0, result.stderr
    assert (target / "demo_pkg" / "__init__.py").is_file()
    fake = box.fake
    assert fake.count("download", status=200, auth_kind="session", scopes=("vso.packaging",)) == 1
    assert fake.count("simple", status=200, auth_kind="session", scopes=("vso.packaging",)) >= 1
    # The cached secret served uv's lookup: one exchange in all, the one `keyring get` made.
    assert fake.count("session_token") == 1
    assert fake.count("simple", auth_kind="invalid") == 0


def test_twine_upload_gets_a_write_scoped_session_token(sp_sandbox: Sandbox) -> None:
    """twine with no username/password: the backend answers for the upload URL with vso.packaging_write."""
    box = sp_sandbox
    dist = box.root / "dist"
    dist.mkdir()
    (dist / wheel_filename(PACKAGE, "2.0.0")).write_bytes(build_wheel(PACKAGE, "2.0.0"))

    result = box.run(
        [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--repository-url",
            box.upload_url,
            "--non-interactive",
            "--disable-progress-bar",
            *(str(path) for path in sorted(dist.iterdir())),
        ]
    )

    assert result.returncode == 0, result.stdout + result.stderr
    fake = box.fake
    assert fake.count("upload", status=200, auth_kind="session", scopes=("vso.packaging_write",)) == 1
    assert (PACKAGE, "2.0.0") in fake.packages(ORG, FEED)
    [session] = fake.issued("session")
    assert session.scopes == ("vso.packaging_write",)

    # The uploaded version is installable through the backend (a read token for the index URL).
    installed, target = box.pip_install(requirement=f"{PACKAGE}==2.0.0")
    assert installed.returncode == 0, installed.stderr
    assert '__version__ = "2.0.0"' in (target / "demo_pkg" / "__init__.py").read_text(encoding="utf-8")
    assert fake.count("download", status=200, auth_kind="session", scopes=("vso.packaging",)) == 1
