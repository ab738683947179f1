"""``FakeAzure``: one HTTPS server on 127.0.0.1 playing Entra ID and Azure DevOps.

Tests drive real msal, azure-identity, pip, uv and twine against it, so it speaks
the real wire formats; its state (issued secrets, a request log, scripted faults)
is open to the test for assertions.
"""

from __future__ import annotations

import hashlib
import http.server
import re
import secrets
import ssl
import tempfile
import threading
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any, Optional
from urllib.parse import parse_qsl, unquote, urlsplit

from . import _jwt, devops, entra
from ._http import Request, Response, Route, json_response
from .records import (
    FEED_ROLES,
    App,
    DeviceUser,
    Fault,
    Feed,
    IssuedToken,
    Org,
    Package,
    PendingDevice,
    RequestRecord,
    TokenKind,
)
from .wheels import build_wheel, normalize, wheel_filename

DEFAULT_TENANT = "72f988bf-0000-4000-8000-000000000001"
# Organizations backed by personal Microsoft accounts name this tenant in their challenge.
NULL_TENANT = "00000000-0000-0000-0000-000000000000"
AZURE_ARTIFACTS_CLIENT_ID = "d5a56ea4-7369-46b8-a538-c370805301bf"
AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
FAKE_CLI_APP_ID = "a11ce000-0000-4000-8000-0000000000c1"
# Redirect URIs registered on the Azure Artifacts public client, as its own credential provider
# uses them (microsoft/artifacts-credprovider src/Authentication/AzureArtifacts.cs): the loopback
# for the system browser, the macOS broker URI, the Linux native-client page, and the Windows
# broker (WAM) URI every app gets. Loopback ports are ignored when matching
# (https://learn.microsoft.com/entra/identity-platform/reply-url#localhost-exceptions).
AZURE_ARTIFACTS_REDIRECT_URIS = (
    "http://localhost",
    "msauth.com.microsoft.azureartifacts.credentialprovider://auth",
    "https://login.microsoftonline.com/oauth2/nativeclient",
    f"ms-appx-web://microsoft.aad.brokerplugin/{AZURE_ARTIFACTS_CLIENT_ID}",
)
AZURE_CLI_REDIRECT_URIS = ("http://localhost",)

_T = r"(?P<tenant>[^/]+)"
_FEED = r"/(?P<org>[^/_][^/]*)/(?:(?P<project>[^/_][^/]*)/)?_packaging/(?P<feed>[^/]+)/pypi"
ROUTES: tuple[Route, ...] = (
    Route("instance_discovery", frozenset({"GET"}), r"/common/discovery/instance", entra.instance_discovery),
    Route(
        "openid",
        frozenset({"GET"}),
        rf"/{_T}/v2\.0/\.well-known/openid-configuration",
        entra.openid_configuration,
    ),
    Route("token", frozenset({"POST"}), rf"/{_T}/oauth2/v2\.0/token", entra.token),
    Route("devicecode", frozenset({"POST"}), rf"/{_T}/oauth2/v2\.0/devicecode", entra.devicecode),
    Route("authorize", frozenset({"GET"}), rf"/{_T}/oauth2/v2\.0/authorize", entra.authorize),
    Route("msi", frozenset({"GET"}), r"/msi/token", entra.msi),
    Route("imds", frozenset({"GET"}), r"/metadata/identity/oauth2/token", entra.imds),
    Route("github_oidc", frozenset({"GET"}), r"/_github/token", entra.github_oidc),
    Route("sign_in", frozenset({"GET"}), r"/_signin/?", devops.sign_in_page),
    Route(
        "pipelines_oidc",
        frozenset({"POST"}),
        r"/(?P<org>[^/]+)/(?P<project>[^/]+)/_apis/distributedtask/hubs/(?P<hub>[^/]+)"
        r"/plans/(?P<plan>[^/]+)/jobs/(?P<job>[^/]+)/oidctoken/?",
        devops.pipelines_oidc_token,
    ),
    Route(
        "session_token",
        frozenset({"POST"}),
        r"/(?P<org>[^/]+)/_apis/Token/SessionTokens/?",
        devops.session_token,
    ),
    Route("pat_create", frozenset({"POST"}), r"/(?P<org>[^/]+)/_apis/tokens/pats/?", devops.pats),
    Route("pat_list", frozenset({"GET"}), r"/(?P<org>[^/]+)/_apis/tokens/pats/?", devops.pats),
    Route("pat_revoke", frozenset({"DELETE"}), r"/(?P<org>[^/]+)/_apis/tokens/pats/?", devops.pats),
    Route(
        "connection_data",
        frozenset({"GET"}),
        r"/(?P<org>[^/]+)/_apis/connectionData/?",
        devops.connection_data,
    ),
    Route("simple", frozenset({"GET"}), _FEED + r"/simple/(?:(?P<name>[^/]+)/?)?", devops.simple),
    Route(
        "download",
        frozenset({"GET", "HEAD"}),
        _FEED + r"/download/(?P<name>[^/]+)/(?P<version>[^/]+)/(?P<filename>[^/]+)",
        devops.download,
    ),
    Route("upload", frozenset({"POST"}), _FEED + r"/upload/?", devops.upload),
)
_COMPILED = tuple((route, re.compile(route.pattern + "$", re.IGNORECASE)) for route in ROUTES)


class FakeAzure:
    """A fake Microsoft Entra ID + Azure DevOps (token service and PyPI feeds).

    Use as ``with FakeAzure() as fake:`` or ``start()``/``stop()``. Everything is
    served from ``base_url``; trust ``ca_path`` in the client under test.
    """

    def __init__(self, *, default_tenant: str = DEFAULT_TENANT) -> None:
        self.default_tenant = default_tenant
        self.token_lifetime = 3600
        self.refresh_token_lifetime = 90 * 86400
        self.session_token_lifetime = 3600
        self.pat_default_lifetime = 30 * 86400
        self.device_code_interval = 1
        self.device_script = DeviceUser()
        self.browser_username = "user@contoso.com"
        self.identity_header = secrets.token_urlsafe(16)
        self.managed_identity_client_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "fake-system-identity"))
        self.managed_identity_tenant: Optional[str] = None
        self.github_request_token = secrets.token_urlsafe(24)
        self.github_subject = "repo:contoso/app:ref:refs/heads/main"
        # How the REST APIs refuse a credential sent without `X-TFS-FedAuthRedirect: Suppress`:
        # "203" (a sign-in page) or "302" (a redirect to the sign-in host).
        self.refusal = "203"
        # Old answers kept for the tests that need them (see devops.connection_data, _pat_create).
        self.connection_data_refusal = "anonymous"  # or "challenge": a 401 like the other APIs
        self.pat_lifespan = "shorten"  # or "refuse": patLifespanPolicyViolation
        self.time_offset = 0.0
        self.tenant_domains: dict[str, str] = {}
        self.signing_key = secrets.token_bytes(32)
        self.apps: dict[str, App] = {}
        self.pipeline_connections: dict[str, tuple[str, str, str]] = {}
        self.orgs: dict[str, Org] = {}
        self.feeds: list[Feed] = []
        self.pending_devices: dict[str, PendingDevice] = {}
        self.pending_codes: dict[str, entra.AuthCode] = {}
        self.requests: list[RequestRecord] = []
        self._arrived: dict[str, int] = {}
        self.lock = threading.RLock()
        self._tokens: dict[str, IssuedToken] = {}
        self._faults: list[Fault] = []
        self._stopping = threading.Event()
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None
        self._tmp: Optional[tempfile.TemporaryDirectory[str]] = None
        self.ca_path = ""
        self.base_url = ""
        self.host = ""
        self.authority_host = ""
        self.cli_client_secret = secrets.token_urlsafe(24)
        self.add_app(FAKE_CLI_APP_ID, secret=self.cli_client_secret).signed_in_user = "user@contoso.com"
        self.add_public_client(AZURE_ARTIFACTS_CLIENT_ID, AZURE_ARTIFACTS_REDIRECT_URIS)
        self.add_public_client(AZURE_CLI_CLIENT_ID, AZURE_CLI_REDIRECT_URIS)

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> FakeAzure:
        """Bind an ephemeral port, write the CA file and serve in a daemon thread."""
        import trustme

        if self._server is not None:
            return self
        self._tmp = tempfile.TemporaryDirectory(prefix="fake-azure-")
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        ca_file = Path(self._tmp.name) / "fake-azure-ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        self.ca_path = str(ca_file)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        server = _Server(("127.0.0.1", 0), _Handler, self)
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self._server = server
        self.host = f"127.0.0.1:{server.server_address[1]}"
        self.base_url = f"https://{self.host}"
        self.authority_host = self.base_url
        self._stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; hanging handlers are woken and every wait is bounded."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> FakeAzure:
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()

    # --- time ------------------------------------------------------------------------

    def now(self) -> float:
        """The fake's clock: wall time plus ``time_offset`` (see :meth:`advance`)."""
        return time.time() + self.time_offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward, e.g. to expire tokens without sleeping."""
        self.time_offset += seconds

    # --- tenants, apps, orgs, feeds --------------------------------------------------------

    def issuer(self, tenant: str) -> str:
        return f"{self.base_url}/{tenant}/v2.0"

    def resolve_tenant(self, segment: str) -> Optional[str]:
        """A tenant GUID for a path segment: GUID, alias (common, organizations) or known domain."""
        lowered = segment.lower()
        if lowered in entra.TENANT_ALIASES:
            return self.default_tenant
        if entra.is_guid(segment):
            return lowered
        return self.tenant_domains.get(lowered)

    def add_app(
        self,
        client_id: str,
        secret: Optional[str] = None,
        certificate_pem: Optional[bytes] = None,
        federated_subject: Optional[str] = None,
    ) -> App:
        """Register a confidential client (secret, certificate and/or federated credential)."""
        app = App(client_id, secret, certificate_pem, federated_subject)
        with self.lock:
            self.apps[client_id.lower()] = app
        return app

    def add_public_client(
        self, client_id: str, redirect_uris: tuple[str, ...] = ("http://localhost",)
    ) -> App:
        """Register a public client (user sign-in) and the redirect URIs it may use."""
        app = App(client_id, public=True, redirect_uris=tuple(redirect_uris))
        with self.lock:
            self.apps[client_id.lower()] = app
        return app

    def add_org(
        self,
        name: str,
        tenant: Optional[str] = None,
        *,
        kind: str = "entra",
        challenge: bool = True,
        pat_max_lifetime: Optional[int] = None,
    ) -> Org:
        """An organization backed by ``tenant`` (the default tenant when omitted).

        ``kind="personal"``: backed by Microsoft accounts (a bare ``Bearer`` challenge and the
        all-zero tenant header; any tenant's users may sign in). ``kind="server"``: an Azure DevOps Server collection
        (NTLM/Negotiate/Basic challenges, no Entra ID, no token service; PATs from
        :meth:`server_pat`). ``challenge=False``: its 401 carries no usable challenge.
        """
        if kind not in ("entra", "personal", "server"):
            raise ValueError(f"unknown org kind {kind!r}")
        if kind == "personal":
            tenant = NULL_TENANT
        org = Org(
            name,
            (tenant or self.default_tenant).lower(),
            str(uuid.uuid5(uuid.NAMESPACE_URL, "org:" + name)),
            kind=kind,
            challenge=challenge,
            pat_max_lifetime=pat_max_lifetime,
        )
        with self.lock:
            self.orgs[name.lower()] = org
        return org

    def add_feed(
        self,
        org: str,
        feed: str,
        project: Optional[str] = None,
        packages: Optional[dict[str, list[str]]] = None,
        anonymous_read: bool = False,
    ) -> Feed:
        """A feed (org-scoped, or project-scoped when ``project`` is given) with built wheels.

        ``anonymous_read``: a feed of a public project, readable without credentials (its
        anonymous request gets the index, not a challenge).
        """
        if self.find_org(org) is None:
            self.add_org(org)
        key = f"{org}/{project or ''}/{feed}".lower()
        record = Feed(
            org=self.orgs[org.lower()].name,
            name=feed,
            project=project,
            feed_id=str(uuid.uuid5(uuid.NAMESPACE_URL, "feed:" + key)),
            project_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"project:{org}/{project}".lower()))
            if project
            else None,
            anonymous_read=anonymous_read,
        )
        with self.lock:
            self.feeds.append(record)
        for name, versions in (packages or {}).items():
            for version in versions:
                self.add_package(org, feed, name, version, project=project)
        return record

    def set_feed_role(
        self, org: str, feed: str, identity: str, role: str, project: Optional[str] = None
    ) -> None:
        """Give ``identity`` (a username, an app's client id or an object id) one of the feed
        roles ``none``, ``reader``, ``collaborator``, ``contributor``, ``owner``; ``identity="*"``
        sets the role of everyone not listed."""
        found = self.find_feed(org, project, feed)
        if found is None:
            raise KeyError(f"no feed {org}/{project or ''}/{feed}")
        if role not in FEED_ROLES:
            raise ValueError(f"unknown feed role {role!r}; expected one of {', '.join(FEED_ROLES)}")
        with self.lock:
            if identity == "*":
                found.default_role = role
            else:
                found.roles[identity.lower()] = role

    def add_package(
        self, org: str, feed: str, name: str, version: str, project: Optional[str] = None
    ) -> Package:
        """Build a wheel for ``name==version`` and put it in the feed."""
        found = self.find_feed(org, project, feed)
        if found is None:
            raise KeyError(f"no feed {org}/{project or ''}/{feed}")
        data = build_wheel(name, version)
        package = Package(
            name, version, wheel_filename(name, version), data, hashlib.sha256(data).hexdigest()
        )
        with self.lock:
            found.files.append(package)
        return package

    def find_org(self, name: str) -> Optional[Org]:
        return self.orgs.get(unquote(name).lower())

    def find_feed(self, org: str, project: Optional[str], feed: str) -> Optional[Feed]:
        """By name or GUID, case-insensitively; ``feed@view`` names the feed."""
        feed_name = unquote(feed).split("@", 1)[0].lower()
        project_name = unquote(project).lower() if project else None
        with self.lock:
            for candidate in self.feeds:
                if candidate.org.lower() != org.lower():
                    continue
                if feed_name not in (candidate.name.lower(), candidate.feed_id):
                    continue
                wanted_project = (
                    {candidate.project.lower(), candidate.project_id} if candidate.project else {None}
                )
                if project_name in wanted_project:
                    return candidate
        return None

    def feed_url(self, org: str, feed: str, project: Optional[str] = None) -> str:
        """The simple index URL of a feed, as pip and uv are configured with it."""
        middle = f"{project}/" if project else ""
        return f"{self.base_url}/{org}/{middle}_packaging/{feed}/pypi/simple/"

    def upload_url(self, org: str, feed: str, project: Optional[str] = None) -> str:
        middle = f"{project}/" if project else ""
        return f"{self.base_url}/{org}/{middle}_packaging/{feed}/pypi/upload/"

    def packages(self, org: str, feed: str, project: Optional[str] = None) -> list[tuple[str, str]]:
        """(normalized name, version) of every file in a feed, uploads included."""
        found = self.find_feed(org, project, feed)
        return [] if found is None else [(normalize(p.name), p.version) for p in found.files]

    # --- users ---------------------------------------------------------------------------------

    def device_user(
        self, approve_after_polls: int = 1, deny: bool = False, username: str = "user@contoso.com"
    ) -> DeviceUser:
        """Script how the user answers the next device-code sign-ins."""
        self.device_script = DeviceUser(approve_after_polls, deny, username)
        return self.device_script

    def install_cli(self, bin_dir: str | Path) -> None:
        """Write fake ``az`` and ``azd`` into ``bin_dir`` (put it first on PATH).

        ``FAKE_AZ_LOGGED_OUT=1`` / ``FAKE_AZD_LOGGED_OUT=1`` make them fail like a
        CLI that is not logged in.
        """
        from .cli import write_cli_scripts

        write_cli_scripts(
            Path(bin_dir),
            base_url=self.base_url,
            ca_path=self.ca_path,
            client_id=FAKE_CLI_APP_ID,
            client_secret=self.cli_client_secret,
            tenant=self.default_tenant,
        )

    # --- issued secrets -----------------------------------------------------------------------

    def remember(self, record: IssuedToken) -> IssuedToken:
        with self.lock:
            self._tokens[record.secret] = record
        return record

    def lookup(self, secret: str) -> Optional[IssuedToken]:
        with self.lock:
            return self._tokens.get(secret)

    def issued(self, kind: Optional[TokenKind] = None) -> list[IssuedToken]:
        """Every secret handed out (of one kind), oldest first."""
        with self.lock:
            return [r for r in self._tokens.values() if kind is None or r.kind == kind]

    def revoke(self, secret: str) -> None:
        """Revoke any issued secret (refresh token, session token, PAT, access token)."""
        record = self.lookup(secret)
        if record is None:
            raise KeyError("not a secret this fake issued")
        record.revoked = True

    def server_pat(
        self, org: str, scopes: tuple[str, ...] = ("vso.packaging",), lifetime: int = 30 * 86400
    ) -> str:
        """A PAT made in an Azure DevOps Server collection's web UI (Server has no PAT API)."""
        found = self.find_org(org)
        if found is None:
            raise KeyError(f"no organization {org}")
        now = self.now()
        return self.remember(
            IssuedToken(
                secret=devops.new_secret(),
                kind="pat",
                tenant=found.tenant,
                expires_at=now + lifetime,
                issued_at=now,
                oid=entra.user_oid("server-user"),
                org=found.name,
                scopes=scopes,
                authorization_id=str(uuid.uuid4()),
                display_name="made in the web UI",
                username="server-user",
            )
        ).secret

    def azure_pipelines_job(
        self,
        org: str,
        project: str = "app",
        *,
        client_id: Optional[str] = None,
        tenant: Optional[str] = None,
        service_connection: str = "azure-artifacts",
        lifetime: int = 3600,
    ) -> dict[str, str]:
        """The environment an `AzureCLI@2` step with a workload-identity service connection sees.

        Registers the service connection's app with its federated credential (subject
        ``sc://{org}/{project}/{service connection}``) and mints the job's System.AccessToken;
        the returned variables are the ones azure-identity's AzurePipelinesCredential reads
        (sources: Azure DevOps sprint 240 release notes; azure-identity
        ``_credentials/azure_pipelines.py``).
        """
        found = self.find_org(org) or self.add_org(org)
        client_id = client_id or str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"sc:{org}/{project}/{service_connection}")
        )
        tenant = (tenant or self.default_tenant).lower()
        connection_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"scid:{org}/{project}/{service_connection}"))
        app = self.add_app(client_id, federated_subject=f"sc://{found.name}/{project}/{service_connection}")
        app.federated_issuer = f"{self.base_url}/_vstoken/{found.org_id}"
        self.pipeline_connections[connection_id] = (found.name, project, service_connection)
        now = self.now()
        job_token = self.remember(
            IssuedToken(
                secret=_jwt.encode_hs256(
                    {
                        "iss": "app.vstoken.visualstudio.com",
                        "aud": "app.vstoken.visualstudio.com",
                        "exp": int(now) + lifetime,
                        "jti": secrets.token_urlsafe(12),
                    },
                    self.signing_key,
                ),
                kind="job",
                tenant=found.tenant,
                expires_at=now + lifetime,
                issued_at=now,
                oid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"build-service:{org}/{project}")),
                org=found.name,
                scopes=("vso.packaging", "vso.build_execute"),
                username="Project Collection Build Service",
            )
        ).secret
        project_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"project:{org}/{project}".lower()))
        plan, job = uuid.uuid4(), uuid.uuid4()
        return {
            "SYSTEM_OIDCREQUESTURI": f"{self.base_url}/{found.name}/{project_id}/_apis/distributedtask/"
            f"hubs/build/plans/{plan}/jobs/{job}/oidctoken",
            "SYSTEM_ACCESSTOKEN": job_token,
            "AZURESUBSCRIPTION_CLIENT_ID": client_id,
            "AZURESUBSCRIPTION_TENANT_ID": tenant,
            "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": connection_id,
            "TF_BUILD": "True",
        }

    def federated_token(
        self,
        subject: Optional[str] = None,
        audience: str = entra.FEDERATED_AUDIENCE,
        issuer: Optional[str] = None,
        lifetime: int = 600,
    ) -> str:
        """A workload-identity JWT the token endpoint accepts as ``client_assertion``."""
        now = self.now()
        claims = {
            "iss": issuer or f"{self.base_url}/_federation",
            "sub": subject or self.github_subject,
            "aud": audience,
            "iat": int(now),
            "nbf": int(now),
            "exp": int(now) + lifetime,
            "jti": secrets.token_urlsafe(12),
        }
        token = _jwt.encode_hs256(claims, self.signing_key)
        self.remember(
            IssuedToken(
                secret=token,
                kind="federated",
                tenant=self.default_tenant,
                expires_at=now + lifetime,
                issued_at=now,
                scopes=(audience,),
                username=str(claims["sub"]),
            )
        )
        return token

    def access_token(
        self, tenant: Optional[str] = None, client_id: str = FAKE_CLI_APP_ID, username: Optional[str] = None
    ) -> str:
        """Mint an access token directly (test convenience, no HTTP round trip): an app's, or a
        user's when ``username`` is given (the PAT lifecycle API takes only users)."""
        tenant = (tenant or self.default_tenant).lower()
        oid = entra.app_oid(client_id, tenant) if username is None else entra.user_oid(username)
        return entra.issue_access_token(
            self, tenant=tenant, client_id=client_id, oid=oid, username=username
        ).secret

    # --- request log and faults --------------------------------------------------------------

    def count(self, route: Optional[str] = None, **filters: Any) -> int:
        """How many logged requests match the route and every ``field=value`` filter."""
        with self.lock:
            return sum(
                1
                for r in self.requests
                if (route is None or r.route == route) and all(getattr(r, k) == v for k, v in filters.items())
            )

    def arrived(self, route: Optional[str] = None) -> int:
        """Requests that reached ``route`` (any route when None), counted on arrival.

        ``count()`` sees a request once it has been answered; a request still hanging on an
        injected fault (its client gave up) is only counted here.
        """
        with self.lock:
            return sum(n for name, n in self._arrived.items() if route is None or name == route)

    def clear_log(self) -> None:
        with self.lock:
            self.requests.clear()
            self._arrived.clear()

    def inject(
        self,
        route: str,
        status: Optional[int] = None,
        times: int = 1,
        retry_after: Optional[int] = None,
        hang: Optional[float] = None,
        body: Optional[bytes] = None,
        content_type: Optional[str] = None,
    ) -> Fault:
        """Make the next ``times`` requests to ``route`` fail (status), hang or answer ``body``.

        With neither ``hang`` nor ``body``, the status defaults to 503.
        """
        if route not in {r.name for r in ROUTES}:
            raise ValueError(f"unknown route {route!r}")
        if status is None and hang is None and body is None:
            status = 503
        fault = Fault(route, times, status, retry_after, hang, body, content_type)
        with self.lock:
            self._faults.append(fault)
        return fault

    def _take_fault(self, route: str) -> Optional[Fault]:
        with self.lock:
            for fault in self._faults:
                if fault.route == route and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    # --- dispatch ---------------------------------------------------------------------------------

    def handle(self, req: Request) -> tuple[Response, str, bool]:
        """Route a request, applying a scripted fault first; returns (response, route, faulted)."""
        for route, pattern in _COMPILED:
            match = pattern.match(req.path)
            if match is None or req.method not in route.methods:
                continue
            req.params = {k: v for k, v in match.groupdict().items() if v is not None}
            with self.lock:
                self._arrived[route.name] = self._arrived.get(route.name, 0) + 1
            fault = self._take_fault(route.name)
            if fault is not None:
                response = self._apply_fault(fault)
                if response is not None:
                    return response, route.name, True
            return route.handler(self, req), route.name, fault is not None
        return json_response(404, {"message": f"No route for {req.method} {req.path}"}), "unknown", False

    def _apply_fault(self, fault: Fault) -> Optional[Response]:
        if fault.hang is not None:
            self._stopping.wait(fault.hang)
        if fault.body is not None:
            return Response(fault.status or 200, fault.body, fault.content_type or "application/json")
        if fault.status is not None:
            headers = [("Retry-After", str(fault.retry_after))] if fault.retry_after is not None else []
            return Response(
                fault.status,
                b'{"error":"temporarily_unavailable","error_description":"Injected fault."}',
                fault.content_type or "application/json",
                headers,
            )
        return None

    def log(self, req: Request, route: str, status: int, faulted: bool) -> None:
        record = RequestRecord(
            method=req.method,
            path=req.path,
            query=dict(req.query),
            route=route,
            status=status,
            org=req.org,
            auth_kind=req.auth_kind,
            scopes=req.scopes,
            grant_type=req.grant_type,
            client_id=req.client_id,
            secret_fingerprint=req.secret_fingerprint,
            fault=faulted,
        )
        with self.lock:
            self.requests.append(record)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], fake: FakeAzure) -> None:
        self.fake = fake
        super().__init__(address, handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    """Thin adapter from http.server to :meth:`FakeAzure.handle`."""

    protocol_version = "HTTP/1.1"
    server_version = "FakeAzure/1.0"
    timeout = 30
    # http.server writes the headers and the body in separate sends; with Nagle's algorithm on,
    # the body then waits for the client's delayed ACK (~40 ms a response on Linux), a delay no
    # real service adds. StreamRequestHandler sets TCP_NODELAY when this is true.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        sock = self.request
        if isinstance(sock, ssl.SSLSocket):
            try:
                sock.do_handshake()
            except (ssl.SSLError, OSError):
                self.close_connection = True

    def _serve(self) -> None:
        fake: FakeAzure = self.server.fake  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        response, route, faulted = fake.handle(req)
        fake.log(req, route, response.status, faulted)
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_DELETE = do_HEAD = do_PUT = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the structured request log replaces stderr lines (which could carry secrets)."""
