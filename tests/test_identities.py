"""One identity, one secret: two identities of the same kind sharing a state directory never
receive each other's secret, on the warm path or the full path; the identity a secret was
issued to is read from its token's claims and shown; app-only is decided from the claims; a
failing CLI does not block the chain."""

from __future__ import annotations

import base64
import importlib
import inspect
import json
import pkgutil
import shutil
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import pytest
from helpers import APP_ID, APP_SECRET

from keyrings.azure_artifacts import claims, service
from keyrings.azure_artifacts.credentials import registry
from keyrings.azure_artifacts.credentials.base import Flow
from keyrings.azure_artifacts.credentials.msal_user import forget_sign_ins
from keyrings.azure_artifacts.testing import FakeAzure

if TYPE_CHECKING:
    from helpers import CleanEnv

APP_A = APP_ID
APP_B = "1b1b1b1b-0000-4000-8000-00000000000b"


def jwt(payload: dict[str, object]) -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(payload)}.sig"


# -- claims ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "app_only"),
    [
        ({"idtyp": "app", "oid": "x"}, True),
        ({"roles": ["r"], "oid": "x"}, True),  # no idtyp, no scp: an application
        ({"scp": "user_impersonation", "upn": "ann@contoso.com"}, False),
        ({"idtyp": "user", "scp": "user_impersonation"}, False),
        ({"idtyp": "app", "scp": "odd"}, True),  # idtyp, when present, is the most accurate
    ],
)
def test_app_only_is_read_from_the_claims(payload: dict[str, object], app_only: bool) -> None:
    found = claims.payload(jwt(payload))
    assert found is not None and claims.is_app_only(found) is app_only


def test_identity_reads_v1_and_v2_names_and_never_a_non_jwt() -> None:
    v1 = {"oid": "o1", "appid": "a1", "tid": "t1", "upn": "ann@contoso.com", "scp": "x", "exp": 1}
    assert claims.identity(v1) == {"oid": "o1", "appid": "a1", "tid": "t1", "upn": "ann@contoso.com"}
    v2 = {"oid": "o2", "azp": "a2", "tid": "t2", "preferred_username": "bob@fabrikam.com"}
    assert claims.identity(v2) == {"oid": "o2", "appid": "a2", "tid": "t2", "upn": "bob@fabrikam.com"}
    assert claims.describe(claims.identity(v2)) == "bob@fabrikam.com"
    assert claims.describe({"appid": "a3", "tid": "t"}) == "app a3"
    for opaque in ("a-pat-value", "a.b", "x.!!!.y", f"x.{base64.urlsafe_b64encode(b'[1]').decode()}.y"):
        assert claims.payload(opaque) is None


def test_the_fake_issues_app_and_user_tokens_with_realistic_claims(fake_azure: FakeAzure) -> None:
    app = claims.payload(fake_azure.access_token(client_id=APP_A))
    user = claims.payload(fake_azure.access_token(username="ann@contoso.com"))
    assert app is not None and user is not None
    assert app["idtyp"] == "app" and "scp" not in app and app["appid"] == APP_A and "roles" not in app
    assert "idtyp" not in user and user["scp"] and user["upn"] == "ann@contoso.com"
    assert claims.is_app_only(app) and not claims.is_app_only(user)


# -- the registry ------------------------------------------------------------------------------


def test_every_flow_module_is_registered_once_with_its_traits() -> None:
    from keyrings.azure_artifacts import credentials

    defined = set()
    for info in pkgutil.iter_modules(credentials.__path__):
        module = importlib.import_module(f"{credentials.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Flow) and cls.__module__ == module.__name__ and cls.name:
                defined.add(cls)
    assert defined == set(registry.FLOWS), "a flow module whose class is not in registry.FLOWS"
    assert len(registry.ALL_NAMES) == len(set(registry.ALL_NAMES)) == len(registry.FLOWS)
    assert registry.HANDS_OVER == ("static", "azure_pipelines")
    assert {"environment", "workload_identity", "managed_identity"} == registry.SERVICE_IDENTITIES
    auto = [flow.name for flow in registry.AUTO]
    assert auto.index("shared_cache") < auto.index("azure_cli")  # as in DefaultAzureCredential


# -- two identities of one kind in one state directory -----------------------------------------


@pytest.fixture
def fake(fake: FakeAzure) -> FakeAzure:
    """The shared fake (its service principal is APP_A) with a second service principal, APP_B."""
    fake.add_app(APP_B, secret=APP_SECRET)
    return fake


def config(fake: FakeAzure, more: str = "") -> str:
    return f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\n{more}'


def write_config(clean_env: CleanEnv, name: str, text: str) -> Path:
    """A second configuration file (`clean_env` writes one, keyringrc.cfg, for every call)."""
    path = clean_env.root / f"{name}.cfg"
    path.write_text(text, encoding="utf-8")
    return path


def who(fake: FakeAzure, secret: str) -> str:
    """Whom the fake issued a secret to: the user name, else the client id."""
    issued = fake.lookup(secret)
    assert issued is not None, "not a secret the fake issued"
    return issued.username or issued.client_id or ""


class Lookups:
    """In-process lookups, each with os.environ made exactly its environment (the libraries and
    the CLIs they start read os.environ)."""

    def __init__(self, fake: FakeAzure, clean_env: CleanEnv, monkeypatch: pytest.MonkeyPatch) -> None:
        self.fake, self.clean_env, self.monkeypatch = fake, clean_env, monkeypatch
        self.url = fake.feed_url("contoso", "main")

    def __call__(self, env: dict[str, str], *, full: bool = False) -> Optional[tuple[str, str]]:
        if full:
            shutil.rmtree(self.clean_env.state_dir / "warm", ignore_errors=True)
        self.clean_env.install(self.monkeypatch, env)
        return service.lookup(self.url, None, env)

    def never_shared(self, env_a: dict[str, str], env_b: dict[str, str], a: str, b: str) -> None:
        """A then B sign in (the full path); then warm and full lookups each get their own again,
        with no request."""
        first = self(env_a)
        second = self(env_b)
        assert first is not None and second is not None
        assert who(self.fake, first[1]) == a and who(self.fake, second[1]) == b
        self.fake.clear_log()
        for full in (False, True):
            for env, expected in ((env_a, first), (env_b, second), (env_a, first)):
                if not full:
                    assert self.warm(env) == expected[1], "the warm path answers, with this identity's secret"
                assert self(env, full=full) == expected
        assert self.fake.count() == 0, [r.route for r in self.fake.requests]

    def warm(self, env: dict[str, str]) -> Optional[str]:
        """What the warm path alone answers for `env` (None: it leaves the lookup to the full path)."""
        from keyrings.azure_artifacts import warm

        config = Path(env["KEYRINGS_AZURE_ARTIFACTS_CONFIG"])
        found = warm.read(self.clean_env.state_dir, self.url, config, env)
        return None if found is None else found.secret


@pytest.fixture
def lookups(fake: FakeAzure, clean_env: CleanEnv, monkeypatch: pytest.MonkeyPatch) -> Lookups:
    return Lookups(fake, clean_env, monkeypatch)


def test_two_service_principals_by_client_id(fake: FakeAzure, clean_env: CleanEnv, lookups: Lookups) -> None:
    base = {"CI": "1", "AZURE_TENANT_ID": fake.default_tenant, "AZURE_CLIENT_SECRET": APP_SECRET}
    env_a = clean_env.for_lookup(config(fake), ca=fake.ca_path, AZURE_CLIENT_ID=APP_A, **base)
    env_b = clean_env.for_lookup(config(fake), ca=fake.ca_path, AZURE_CLIENT_ID=APP_B, **base)
    lookups.never_shared(env_a, env_b, APP_A, APP_B)


def test_two_pipelines_service_connections(fake: FakeAzure, clean_env: CleanEnv, lookups: Lookups) -> None:
    job_a = fake.azure_pipelines_job("contoso", service_connection="connection-a")
    job_b = fake.azure_pipelines_job("contoso", service_connection="connection-b")
    env_a = clean_env.for_lookup(config(fake), ca=fake.ca_path, **job_a)
    env_b = clean_env.for_lookup(config(fake), ca=fake.ca_path, **job_b)
    lookups.never_shared(
        env_a, env_b, job_a["AZURESUBSCRIPTION_CLIENT_ID"], job_b["AZURESUBSCRIPTION_CLIENT_ID"]
    )


def test_two_feed_endpoint_identities(fake: FakeAzure, clean_env: CleanEnv, lookups: Lookups) -> None:
    mi = {"IDENTITY_ENDPOINT": f"{fake.base_url}/msi/token", "IDENTITY_HEADER": fake.identity_header}
    ids = str(uuid.uuid4()), str(uuid.uuid4())
    envs = [
        clean_env.for_lookup(
            config(fake),
            ca=fake.ca_path,
            ARTIFACTS_CREDENTIALPROVIDER_FEED_ENDPOINTS=json.dumps(
                {"endpointCredentials": [{"endpoint": f"{fake.base_url}/contoso/", "clientId": client_id}]}
            ),
            **mi,
        )
        for client_id in ids
    ]
    lookups.never_shared(envs[0], envs[1], ids[0], ids[1])


def fake_az(bin_dir: Path, body: str, name: str = "az") -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / name
    script.write_text(f"#!{sys.executable}\nimport json, os, sys\n{body}\n")
    script.chmod(0o755)


# `az account get-access-token` answering with the token its configuration directory holds.
AZ_FROM_CONFIG_DIR = (
    "token = open(os.path.join(os.environ['AZURE_CONFIG_DIR'], 'token')).read()\n"
    "print(json.dumps({'accessToken': token, 'expires_on': 4102444800}))"
)
# `azd auth token --output json`, the same way (azure-identity `_credentials/azd_cli.py` reads
# `token` and `expiresOn`).
AZD_FROM_CONFIG_DIR = (
    "token = open(os.path.join(os.environ['AZD_CONFIG_DIR'], 'token')).read()\n"
    "print(json.dumps({'token': token, 'expiresOn': '2099-12-31T00:00:00Z'}))"
)


@pytest.mark.parametrize(
    ("program", "credential", "variable", "body"),
    [
        ("az", "azure_cli", "AZURE_CONFIG_DIR", AZ_FROM_CONFIG_DIR),
        ("azd", "azure_developer_cli", "AZD_CONFIG_DIR", AZD_FROM_CONFIG_DIR),
    ],
)
def test_two_cli_config_dirs(
    fake: FakeAzure,
    clean_env: CleanEnv,
    lookups: Lookups,
    tmp_path: Path,
    program: str,
    credential: str,
    variable: str,
    body: str,
) -> None:
    fake_az(clean_env.bin_dir, body, program)
    envs = []
    for name, app in (("a", APP_A), ("b", APP_B)):
        directory = tmp_path / f"{program}-{name}"
        directory.mkdir()
        (directory / "token").write_text(fake.access_token(client_id=app))
        cfg = config(fake, f"tenant = {fake.default_tenant}\ncredential = {credential}\n")
        envs.append(clean_env.for_lookup(cfg, ca=fake.ca_path, **{variable: str(directory)}))
    lookups.never_shared(envs[0], envs[1], APP_A, APP_B)


def test_two_msal_accounts(fake: FakeAzure, clean_env: CleanEnv, lookups: Lookups) -> None:
    """Ann signs in; her sign-in is replaced by Bob's in the same state directory: Bob never gets
    the secret issued to Ann, however it is looked up."""
    env = clean_env.for_lookup(config(fake, "interactive = always\n"), ca=fake.ca_path)
    fake.device_user(approve_after_polls=1, username="ann@contoso.com")
    ann = lookups(env)
    assert ann is not None and who(fake, ann[1]) == "ann@contoso.com"
    # A silent process of the same account finds the secret obtained interactively.
    silent = clean_env.for_lookup(ca=fake.ca_path, KEYRINGS_AZURE_ARTIFACTS_CONFIG=str(write_config(
        clean_env, "silent", config(fake, "interactive = never\n")
    )))  # fmt: skip
    fake.clear_log()
    assert lookups(silent) == ann and fake.count() == 0

    forget_sign_ins(clean_env.state_dir)  # the secret cache keeps Ann's secret
    fake.device_user(approve_after_polls=1, username="bob@contoso.com")
    bob = lookups(env)
    assert bob is not None and who(fake, bob[1]) == "bob@contoso.com"
    fake.clear_log()
    for full in (False, True):
        assert lookups(env, full=full) == bob
        assert lookups(silent, full=full) == bob
    assert lookups(env) == bob and lookups.warm(env) == lookups.warm(silent) == bob[1]
    assert fake.count() == 0


# -- what is stored and shown ------------------------------------------------------------------


def test_status_and_explain_show_whom_the_secret_was_issued_to(
    fake: FakeAzure, clean_env: CleanEnv, lookups: Lookups, capsys: pytest.CaptureFixture[str]
) -> None:
    from helpers import run_cli

    env = clean_env.for_lookup(
        config(fake),
        ca=fake.ca_path,
        CI="1",
        AZURE_TENANT_ID=fake.default_tenant,
        AZURE_CLIENT_ID=APP_A,
        AZURE_CLIENT_SECRET=APP_SECRET,
    )
    found = lookups(env)
    assert found is not None
    code, out, _ = run_cli(capsys, "status", "--json")
    (item,) = json.loads(out)["credentials"]
    assert code == 0 and item["kind"] == "session"
    assert item["identity"]["appid"] == APP_A and item["identity"]["tid"] == fake.default_tenant
    assert item["identity"]["oid"] and "upn" not in item["identity"]
    code, out, _ = run_cli(capsys, "status")
    assert code == 0 and f"app {APP_A}" in out and found[1] not in out
    code, out, _ = run_cli(capsys, "explain", lookups.url, "--json")
    assert json.loads(out)["cache"]["identity"]["appid"] == APP_A
    code, out, _ = run_cli(capsys, "explain", lookups.url)
    assert f"issued to app {APP_A} (tenant {fake.default_tenant})" in out
    # The token behind the session token is not stored anywhere, only its claims.
    stored = "".join(p.read_text() for p in (clean_env.state_dir / "secrets").glob("*.json"))
    assert all(t.secret not in stored for t in fake.issued("access"))


# -- CLI credentials that fail, app-only through a CLI ------------------------------------------

AZ_EXPIRED = (
    "sys.stderr.write('ERROR: AADSTS700082: The refresh token has expired due to inactivity. "
    "Please run az login to setup account.\\n')\nsys.exit(1)"
)


@pytest.mark.parametrize("credential", ["auto", "azure_cli, shared_cache"])
def test_expired_az_login_does_not_block_a_cached_sign_in(
    fake: FakeAzure, clean_env: CleanEnv, lookups: Lookups, credential: str
) -> None:
    fake.device_user(approve_after_polls=1, username="ann@contoso.com")
    assert lookups(clean_env.for_lookup(config(fake, "interactive = always\n"), ca=fake.ca_path)) is not None
    shutil.rmtree(clean_env.state_dir / "secrets")  # the sign-in stays, the secret goes
    fake_az(clean_env.bin_dir, AZ_EXPIRED)
    env = clean_env.for_lookup(config(fake, f"credential = {credential}\n"), ca=fake.ca_path, CI="1")
    fake.clear_log()
    found = lookups(env)
    assert found is not None and who(fake, found[1]) == "ann@contoso.com"
    assert fake.count("devicecode") == 0


def test_a_failing_cli_is_unavailable_and_the_hint_keeps_a_valid_sign_in(
    fake: FakeAzure, clean_env: CleanEnv, lookups: Lookups, logged: object
) -> None:
    from keyrings.azure_artifacts.credentials import chain

    fake_az(clean_env.bin_dir, AZ_EXPIRED)
    env = clean_env.for_lookup(config(fake, "credential = azure_cli\n"), ca=fake.ca_path, CI="1")
    assert lookups(env) is None  # one line, no traceback (the chain is exhausted)
    hint = chain.fix_hint("URL", [("shared_cache", "refresh failed: ConnectionError: refused")])
    assert "login" not in hint.split(";")[-1] and "doctor" in hint
    assert "azure-artifacts-keyring login URL" in chain.fix_hint(
        "URL", [("shared_cache", "no cached sign-in")]
    )


def test_a_service_principal_signed_in_through_az_is_app_only(
    fake: FakeAzure, clean_env: CleanEnv, lookups: Lookups, tmp_path: Path
) -> None:
    directory = tmp_path / "azure"
    directory.mkdir()
    (directory / "token").write_text(fake.access_token(client_id=APP_A))  # `az login --service-principal`
    fake_az(clean_env.bin_dir, AZ_FROM_CONFIG_DIR)
    cfg = config(fake, f"tenant = {fake.default_tenant}\ncredential = azure_cli\nauth = pat\n")
    assert lookups(clean_env.for_lookup(cfg, ca=fake.ca_path, AZURE_CONFIG_DIR=str(directory))) is None
    assert fake.count("pat_create") == 0  # refused from the token's claims, before any PAT request


def _grant(token: str, flow: str) -> Callable[[], bool]:
    from keyrings.azure_artifacts.credentials.base import AccessToken
    from keyrings.azure_artifacts.signin import Grant

    return lambda: Grant(AccessToken(token, 0), flow, None).app_only  # type: ignore[arg-type]


def test_grant_app_only_follows_the_claims_not_the_flow() -> None:
    assert _grant(jwt({"idtyp": "app"}), "azure_cli")() is True
    assert _grant(jwt({"scp": "user_impersonation"}), "environment")() is False
    # Only a token that is not a JWT falls back on what the flow is for.
    assert _grant("opaque", "managed_identity")() is True
    assert _grant("opaque", "shared_cache")() is False


@pytest.mark.parametrize(("username", "app_only"), [(None, True), ("ann@contoso.com", False)])
def test_a_refused_exchange_hands_over_an_app_only_token_from_az_but_never_a_persons(
    fake: FakeAzure,
    clean_env: CleanEnv,
    lookups: Lookups,
    tmp_path: Path,
    username: Optional[str],
    app_only: bool,
) -> None:
    directory = tmp_path / "azure"
    directory.mkdir()
    token = fake.access_token(client_id=APP_A, username=username)
    (directory / "token").write_text(token)
    fake_az(clean_env.bin_dir, AZ_FROM_CONFIG_DIR)
    fake.inject("session_token", status=403, times=5)
    cfg = config(fake, f"tenant = {fake.default_tenant}\ncredential = azure_cli\n")
    found = lookups(clean_env.for_lookup(cfg, ca=fake.ca_path, AZURE_CONFIG_DIR=str(directory)))
    if app_only:
        assert found is not None and found[1] == token  # the service principal's Entra token as the password
    else:
        assert found is None  # a person's Entra token never goes to the feed


def test_the_registry_imports_no_heavy_library() -> None:
    import subprocess

    heavy = (
        "msal",
        "msal_extensions",
        "azure.identity",
        "azure.core",
        "requests",
        "pydantic",
        "cryptography",
    )
    probe = (
        "import sys, keyrings.azure_artifacts.credentials.registry as r\n"
        f"print([m for m in {heavy!r} if m in sys.modules], len(r.FLOWS))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == f"[] {len(registry.FLOWS)}"
