"""HTTP round trips per lookup scenario, counted at the fake (structure, not timing).

Each `keyring get` is a new process, as uv and pip's subprocess provider run it.
"""

from __future__ import annotations

import shutil
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest

from .conftest import Sandbox

pytestmark = pytest.mark.e2e


def routes(sandbox: Sandbox) -> Counter[str]:
    return Counter(record.route for record in sandbox.fake.requests)


def state(sandbox: Sandbox) -> Path:
    return Path(sandbox.env["XDG_DATA_HOME"]) / "python_keyring" / "azure-artifacts"


def get(sandbox: Sandbox) -> Counter[str]:
    sandbox.fake.clear_log()
    done = sandbox.keyring_get()
    assert done.returncode == 0, done.stderr
    return routes(sandbox)


def test_service_principal_round_trips(sp_sandbox: Sandbox) -> None:
    sp_sandbox.write_config(tenant=sp_sandbox.fake.default_tenant)
    # Pinned tenant, nothing cached: the client credentials grant and the session-token
    # exchange. msal's OIDC metadata is derived for an Entra tenant, never fetched; no
    # discovery request to the feed.
    assert get(sp_sandbox) == Counter({"token": 1, "session_token": 1})
    # Cached secret: no request at all.
    assert get(sp_sandbox) == Counter()
    # Unpinned, nothing cached: one anonymous request to the feed for the tenant first.
    sp_sandbox.write_config()
    shutil.rmtree(state(sp_sandbox))
    assert get(sp_sandbox) == Counter({"simple": 1, "token": 1, "session_token": 1})
    # Discovery is cached per organization across processes.
    shutil.rmtree(state(sp_sandbox) / "secrets")
    assert get(sp_sandbox) == Counter({"token": 1, "session_token": 1})


def test_workload_identity_round_trips(sandbox: Sandbox) -> None:
    fake = sandbox.fake
    client_id = str(uuid.uuid4())
    fake.add_app(client_id, federated_subject=fake.github_subject)
    token_file = sandbox.root / "federated-token"
    token_file.write_text(fake.federated_token(), encoding="utf-8")
    sandbox.env.update(
        AZURE_CLIENT_ID=client_id,
        AZURE_TENANT_ID=fake.default_tenant,
        AZURE_FEDERATED_TOKEN_FILE=str(token_file),
    )
    sandbox.write_config(tenant=fake.default_tenant)
    assert get(sandbox) == Counter({"token": 1, "session_token": 1})
    assert fake.count("token", client_id=client_id, status=200) == 1


def test_managed_identity_round_trips(sandbox: Sandbox) -> None:
    fake = sandbox.fake
    sandbox.env.update(IDENTITY_ENDPOINT=f"{fake.base_url}/msi/token", IDENTITY_HEADER=fake.identity_header)
    sandbox.write_config(tenant=fake.default_tenant)
    # The identity endpoint needs no tenant metadata at all: one token request, one exchange.
    assert get(sandbox) == Counter({"msi": 1, "session_token": 1})


# Prints the modules a `keyring get` loaded, one per line, on stderr at exit.
_MODULES_AT_EXIT = """
import atexit, runpy, sys
atexit.register(lambda: sys.stderr.write("\\n".join(["MODULES", *sorted(sys.modules)]) + "\\n"))
sys.argv = ["keyring", "get", *sys.argv[1:]]
runpy.run_module("keyring", run_name="__main__", alter_sys=True)
"""


def loaded_modules(sandbox: Sandbox) -> set[str]:
    done = sandbox.run([sys.executable, "-c", _MODULES_AT_EXIT, sandbox.index_url, "VssSessionToken"])
    assert done.returncode == 0 and done.stdout.strip(), done.stderr[-2000:]
    return set(done.stderr.split("MODULES\n", 1)[1].split())


def test_cold_service_principal_lookup_loads_no_azure_sdk(sp_sandbox: Sandbox) -> None:
    # The app-only flows run on msal: azure-identity and azure-core (~150 modules) stay unloaded.
    sp_sandbox.write_config(tenant=sp_sandbox.fake.default_tenant)
    modules = loaded_modules(sp_sandbox)
    assert "msal" in modules
    assert not {m for m in modules if m == "azure" or m.startswith("azure.")}


def test_signed_in_user_round_trips(sandbox: Sandbox) -> None:
    fake = sandbox.fake
    fake.device_code_interval = 0
    fake.device_user(approve_after_polls=1)
    sandbox.write_config(tenant=fake.default_tenant, interactive="always")
    first = get(sandbox)
    assert first["devicecode"] == 1 and first["session_token"] == 1 and first["simple"] == 0
    # A new process with the session token forgotten but the sign-in cached: the access token
    # comes from the persisted MSAL cache and msal's OIDC metadata from ours: one exchange.
    shutil.rmtree(state(sandbox) / "secrets")
    sandbox.write_config(tenant=fake.default_tenant, interactive="never")
    assert get(sandbox) == Counter({"session_token": 1})


def test_signed_in_user_with_an_expiring_access_token_refreshes_once(sandbox: Sandbox) -> None:
    fake = sandbox.fake
    fake.device_code_interval = 0
    fake.device_user(approve_after_polls=1)
    fake.token_lifetime = 120  # msal refreshes access tokens with less than 5 minutes left
    sandbox.write_config(tenant=fake.default_tenant, interactive="always")
    assert get(sandbox)["devicecode"] == 1
    shutil.rmtree(state(sandbox) / "secrets")
    sandbox.write_config(tenant=fake.default_tenant, interactive="never")
    # Pinned tenant + cached refresh token: one token request, one exchange.
    assert get(sandbox) == Counter({"token": 1, "session_token": 1})
    assert fake.count("token", grant_type="refresh_token") == 1


def test_explain_says_where_the_tenant_comes_from(sp_sandbox: Sandbox) -> None:
    def tenant_line() -> str:
        done = sp_sandbox.run(
            [sys.executable, "-m", "keyrings.azure_artifacts", "explain", sp_sandbox.index_url]
        )
        assert done.returncode == 0, done.stderr
        return next(line for line in done.stdout.splitlines() if line.startswith("Tenant"))

    assert "not discovered yet" in tenant_line()
    assert sp_sandbox.keyring_get().returncode == 0
    fake = sp_sandbox.fake
    assert tenant_line() == (
        f"Tenant    tenant {fake.default_tenant}, token service {fake.base_url}/contoso (from the feed's 401, cached)"
    )
    sp_sandbox.write_config(tenant=fake.default_tenant)
    assert f'pinned by [artifacts host="{fake.host}"]' in tenant_line()
    assert fake.count("simple") == 1  # explain itself never asks the feed
