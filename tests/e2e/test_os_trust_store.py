"""The OS trust store, simulated: the fake's CA added to the distribution's bundle in a private
mount namespace, and no CA variable anywhere.

That is a company machine whose IT installed the TLS-inspecting proxy's CA: pip (>= 24.2 on
Python >= 3.10, through truststore) trusts it, and so must the backend, in pip's own process.
Each command runs as `unshare --mount sh -c 'mount --bind BUNDLE SYSTEM_BUNDLE && exec CMD'`:
the bind mount is seen by that process tree only. Where unshare is not permitted the tests
skip, saying so; CI runs as root, where it is.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from keyrings.azure_artifacts.testing import FakeAzure

from .conftest import Sandbox

pytestmark = pytest.mark.e2e
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", "PIP_CERT")
# The sandbox's PATH holds only the venv's bin: the system tools are named by their full path.
UNSHARE, MOUNT, SH = (shutil.which(tool) or tool for tool in ("unshare", "mount", "sh"))
MESSAGE = "certificate not trusted by the OS trust store (CERTIFICATE_VERIFY_FAILED)"


def system_bundle() -> Path:
    """The file OpenSSL (and so truststore on Linux, and Python 3.9's default context) reads."""
    paths = ssl.get_default_verify_paths()
    return Path(os.path.realpath(paths.openssl_cafile))


def _namespaces_work() -> str:
    """Why the simulation cannot run here, or ""."""
    if not sys.platform.startswith("linux"):
        return "the OS trust store is simulated with Linux mount namespaces"
    if not shutil.which("unshare") or not shutil.which("mount") or not shutil.which("sh"):
        return "unshare/mount not installed"
    if not system_bundle().is_file():
        return f"no system CA bundle at {system_bundle()}"
    probe = subprocess.run(
        [UNSHARE, "--mount", "true"], capture_output=True, text=True, timeout=10, check=False
    )
    return "" if probe.returncode == 0 else f"unshare --mount is not permitted here: {probe.stderr.strip()}"


_WHY_NOT = _namespaces_work()
needs_namespaces = pytest.mark.skipif(bool(_WHY_NOT), reason=_WHY_NOT or "-")


@pytest.fixture
def company(sandbox: Sandbox) -> Sandbox:
    """The sandbox with no CA variable (nothing names the fake's CA) and a service principal."""
    for name in CA_VARIABLES:
        sandbox.env.pop(name, None)
    sandbox.env["CI"] = "1"
    sandbox.use_service_principal()
    return sandbox


def os_store_with(fake: FakeAzure, root: Path) -> Path:
    """A copy of the system bundle with the fake's CA appended."""
    bundle = root / "os-store.pem"
    bundle.write_bytes(system_bundle().read_bytes() + b"\n" + Path(fake.ca_path).read_bytes())
    return bundle


def in_os_store(box: Sandbox, *cmd: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """`cmd` in a mount namespace where the system bundle also holds the fake's CA."""
    bundle = os_store_with(box.fake, box.root)
    script = '"$1" --bind "$2" "$3" && shift 3 && exec "$@"'
    wrapped = [UNSHARE, "--mount", SH, "-c", script, "sh", MOUNT, str(bundle), str(system_bundle()), *cmd]
    return box.run(wrapped, env={**box.env, **extra})


def keyring_get(box: Sandbox) -> list[str]:
    return [sys.executable, "-m", "keyring", "get", box.index_url, "VssSessionToken"]


@needs_namespaces
def test_keyring_get_trusts_a_ca_in_the_os_store(company: Sandbox) -> None:
    result = in_os_store(company, *keyring_get(company))
    assert result.returncode == 0, result.stderr
    issued = company.fake.lookup(result.stdout.strip())
    assert issued is not None and issued.kind == "session"


@needs_namespaces
def test_azure_pipelines_federation_trusts_the_os_store(company: Sandbox) -> None:
    """azure-identity's AzurePipelinesCredential, on our session (its own would trust certifi only)."""
    for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        company.env.pop(name)
    result = in_os_store(company, *keyring_get(company), **company.fake.azure_pipelines_job("contoso"))
    assert result.returncode == 0, result.stderr
    assert company.fake.lookup(result.stdout.strip()) is not None
    assert company.fake.count("pipelines_oidc") == 1


@needs_namespaces
@pytest.mark.skipif(sys.version_info < (3, 10), reason="pip uses the OS trust store on Python >= 3.10 only")
def test_pip_installs_through_the_backend_in_its_own_process(company: Sandbox) -> None:
    """pip's default keyring provider imports keyring: the backend runs inside pip's process."""
    target = company.root / "target"
    result = in_os_store(
        company, sys.executable, "-m", "pip", "install", "--no-deps", "--no-cache-dir",
        "--disable-pip-version-check", "--target", str(target), "--index-url", company.index_url, "demo-pkg",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (target / "demo_pkg" / "__init__.py").is_file()
    fake = company.fake
    assert fake.count("download", status=200, auth_kind="session") == 1
    assert fake.count("session_token", status=200) == 1


@needs_namespaces
def test_requests_ca_bundle_still_wins_over_the_os_store(company: Sandbox) -> None:
    """A bundle without the fake's CA, named by REQUESTS_CA_BUNDLE: the OS store is not consulted."""
    import trustme

    other = company.root / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    result = in_os_store(company, *keyring_get(company), REQUESTS_CA_BUNDLE=str(other))
    assert result.returncode == 1 and not result.stdout
    assert "certificate not trusted by REQUESTS_CA_BUNDLE (CERTIFICATE_VERIFY_FAILED)" in result.stderr
    assert company.fake.count() == 0


def test_with_the_ca_nowhere_the_lookup_says_which_host_and_how_to_fix_it(company: Sandbox) -> None:
    result = company.run(keyring_get(company))
    assert result.returncode == 1 and not result.stdout
    [line] = [line for line in result.stderr.splitlines() if MESSAGE in line]
    assert f"{company.fake.host}: {MESSAGE}, usually a TLS-inspecting proxy" in line
    assert "install the company CA in the OS trust store, or set REQUESTS_CA_BUNDLE" in line
    assert "Traceback" not in result.stderr


def test_with_the_ca_nowhere_doctor_names_the_issuer_and_the_fix(company: Sandbox) -> None:
    result = company.run(
        [sys.executable, "-m", "keyrings.azure_artifacts", "doctor", "--json", company.index_url]
    )
    assert result.returncode == 1
    steps = {s["name"]: s for s in json.loads(result.stdout)["steps"]}
    tls = steps["tls"]
    assert tls["status"] == "failed" and "NOT trusted by the OS trust store" in tls["detail"]
    assert "issued by 'O=trustme" in tls["detail"]
    assert "REQUESTS_CA_BUNDLE" in tls["fix"]
    assert MESSAGE in steps["tenant"]["detail"]


@needs_namespaces
def test_doctor_sees_the_os_store(company: Sandbox) -> None:
    cmd = [sys.executable, "-m", "keyrings.azure_artifacts", "doctor", "--json", company.index_url]
    result = in_os_store(company, *cmd)
    steps = {s["name"]: s for s in json.loads(result.stdout)["steps"]}
    assert steps["tls"]["status"] == "ok", steps["tls"]
    assert steps["tls"]["detail"].endswith("trusted by the OS trust store")
    assert result.returncode == 0, steps
