"""Azure DevOps endpoints: the token service (session tokens, PATs), PyPI feeds and the
Azure Pipelines OIDC token request.

Feed auth follows the service: Basic (any user, secret as password) or Bearer,
with a session token or PAT of this org, or an Entra token of the org's tenant.
Each refusal below names the public source that shows the real service doing it.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import re
import secrets
import uuid
from datetime import datetime, timezone
from html import escape
from typing import TYPE_CHECKING, Any, Optional, Union

from ._http import Request, Response, html_response, json_response
from .entra import ADO_RESOURCE
from .records import FEED_ROLES, Feed, IssuedToken, Org, Package, fingerprint
from .wheels import normalize

if TYPE_CHECKING:
    from .server import FakeAzure

SESSION_API_VERSIONS = frozenset({"5.0-preview.1", "5.0-preview"})
PAT_API_VERSIONS = frozenset({"7.1-preview.1", "7.1-preview", "7.1"})
# Oidctoken - Create documents 7.1-preview.1; azure-identity's AzurePipelinesCredential and the
# sprint 240 release notes send 7.1.
OIDC_API_VERSIONS = frozenset({"7.1-preview.1", "7.1"})
# The session-token types of artifacts-credprovider's VstsTokenType (VstsSessionTokenClient.cs):
# SelfDescribing is a session token; Compact makes a PAT the user sees (and is e-mailed about).
SESSION_TOKEN_TYPES = frozenset({"selfdescribing", "compact"})
NULL_TENANT = "00000000-0000-0000-0000-000000000000"
SESSION_MAX_LIFETIME = 24 * 3600
READ_SCOPES = frozenset({"vso.packaging", "vso.packaging_write", "vso.packaging_manage", "app_token"})
WRITE_SCOPES = frozenset({"vso.packaging_write", "vso.packaging_manage", "app_token"})
_SCOPE = re.compile(r"^(vso\.[a-z_]+|app_token)$")
_SECRET_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def new_secret() -> str:
    """52 lower-case base32 characters, the shape of a classic PAT."""
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(52))


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> Optional[float]:
    """ISO 8601 with a zone (``Z`` or offset), up to 7 fraction digits as .NET writes them."""
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$", text.strip())
    if not match:
        return None
    base, fraction, zone = match.groups()
    stamp = base + ("." + (fraction + "000000")[:6] if fraction else "")
    stamp += "+00:00" if zone in (None, "Z") else zone
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return None


def vss_error(status: int, type_key: str, message: str) -> Response:
    """An error body shaped like Azure DevOps' ``WrappedException``."""
    return json_response(
        status,
        {
            "$id": "1",
            "innerException": None,
            "message": message,
            "typeName": f"Microsoft.VisualStudio.Services.WebApi.{type_key}, "
            "Microsoft.VisualStudio.Services.WebApi",
            "typeKey": type_key,
            "errorCode": 0,
            "eventId": 3000,
        },
    )


def challenge(fake: FakeAzure, org: Org, status: int = 401) -> Response:
    """The 401 a feed or the token service answers, with the discovery headers clients read.

    Azure DevOps Services: Bearer authorization_uri, Basic and TFS-Federated challenges,
    X-VSS-ResourceTenant and X-VSS-AuthorizationEndpoint (what artifacts-credprovider's
    AuthUtil reads). A personal-account organization names the all-zero tenant (Git Credential
    Manager's AzureDevOpsRestApi then signs in at `organizations`). Azure DevOps Server answers
    with Negotiate/NTLM/Basic and X-VSS-E2EID, never a Bearer authority (artifacts-credprovider
    AuthUtil.GetAuthorizationInfoAsync treats such a host as on-premises).
    """
    if not org.challenge:  # a proxy (or a CDN) that strips the challenge headers
        return html_response(status, "<html><body>401 Unauthorized</body></html>")
    if org.kind == "server":
        headers = [
            ("WWW-Authenticate", "Negotiate"),
            ("WWW-Authenticate", "NTLM"),
            ("WWW-Authenticate", f'Basic realm="{fake.base_url}/"'),
            ("X-VSS-E2EID", str(uuid.uuid4())),
        ]
    else:
        # A personal-account organization's Bearer challenge has no parameter (artifacts-credprovider
        # AuthUtil: "MSA-backed accounts don't expose a parameter"); its tenant header is all zeros.
        bearer = (
            "Bearer" if org.kind == "personal" else f"Bearer authorization_uri={fake.base_url}/{org.tenant}"
        )
        headers = [
            ("WWW-Authenticate", bearer),
            ("WWW-Authenticate", f'Basic realm="{fake.base_url}/"'),
            ("WWW-Authenticate", "TFS-Federated"),
            ("X-VSS-ResourceTenant", org.tenant),
            ("X-VSS-AuthorizationEndpoint", f"{fake.base_url}/{org.name}/"),
            ("X-TFS-FedAuthRealm", f"{fake.base_url}/"),
        ]
    body = html_response(status, "<html><body>Access Denied: authentication required.</body></html>", headers)
    return body


SIGN_IN_PAGE = (
    "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head>"
    "<body><h1>Sign in</h1><p>Sign in to your account to continue.</p></body></html>"
)


def refusal(fake: FakeAzure, req: Request, org: Org) -> Response:
    """How the REST APIs (dev.azure.com, vssps) refuse: a request that carried a credential and
    no `X-TFS-FedAuthRedirect: Suppress` gets HTTP 203 with the HTML sign-in page (or a 302 to
    the sign-in host), not a 401 (MicrosoftDocs/vsts-rest-api-specs issue 97: "given HTTP 203
    with 'sign in' content"; getsentry/sentry-plugins PR 271 "Suppress TFS federation
    redirects" for the 302). With the header, or with no credential at all, the 401 challenge.
    Feeds (pkgs.*) answer a refused credential with 401 either way (npm's E401 with an expired
    PAT, microsoft/azure-pipelines-tasks issue 11649)."""
    suppressed = (req.header("x-tfs-fedauthredirect") or "").strip().lower() == "suppress"
    if not req.header("authorization") or suppressed or org.kind == "server":
        return challenge(fake, org)
    if fake.refusal == "302":
        target = f"{fake.base_url}/_signin?realm={fake.host}&reply_to={fake.base_url}{req.path}"
        return Response(302, b"", None, [("Location", target)])
    return html_response(203, SIGN_IN_PAGE)


def sign_in_page(fake: FakeAzure, req: Request) -> Response:
    """Where a refused REST call is redirected: a page for browsers, useless to a client."""
    return html_response(200, SIGN_IN_PAGE)


# --- credentials ------------------------------------------------------------------


def authenticate(fake: FakeAzure, req: Request, org: Org) -> Optional[IssuedToken]:
    """The valid credential in the Authorization header for this org, or None (and log why)."""
    header = req.header("authorization")
    if not header:
        req.auth_kind = "anonymous"
        return None
    scheme, _, value = header.strip().partition(" ")
    secret: Optional[str] = None
    if scheme.lower() == "bearer":
        secret = value.strip()
    elif scheme.lower() == "basic":
        try:
            secret = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[2]
        except ValueError:
            secret = None
    if not secret:
        req.auth_kind = "invalid"
        return None
    req.secret_fingerprint = fingerprint(secret)
    record = fake.lookup(secret)
    if record is None or record.revoked or record.expires_at <= fake.now():
        req.auth_kind = "invalid"
        return None
    if record.kind == "access":
        # Azure DevOps Server knows no Entra ID; a personal-account org takes any tenant's users.
        # An organization connected to a tenant takes only that tenant's tokens ("Connect your
        # organization to Microsoft Entra ID", Microsoft Learn): another tenant's token is refused
        # like a bad one, a 401 when the request carries Suppress (see `refusal`).
        if org.kind == "server" or (org.kind != "personal" and record.tenant.lower() != org.tenant.lower()):
            req.auth_kind = "invalid"
            return None
        # A person of the tenant who was never added to the organization has no access to it
        # ("Add organization users", Microsoft Learn; the REST APIs answer TF400813 with a 401).
        if org.members is not None and record.username and record.username.lower() not in org.members:
            req.auth_kind = "invalid"
            return None
        req.auth_kind = "entra"
    elif record.kind in ("session", "pat", "job"):
        if (record.org or "").lower() != org.name.lower():
            req.auth_kind = "invalid"
            return None
        # Azure DevOps Server takes a PAT over Basic only ("Use personal access tokens",
        # https://learn.microsoft.com/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate).
        if org.kind == "server" and scheme.lower() != "basic":
            req.auth_kind = "invalid"
            return None
        req.auth_kind = "pat" if record.kind == "pat" else "session"
    else:
        req.auth_kind = "invalid"
        return None
    req.scopes = record.scopes
    return record


# Who `connectionData` says an unauthenticated caller is: the anonymous identity of organizations
# with public projects (Git Credential Manager for Windows' recorded `ValidateCredentials_Failed`
# traffic; artifacts-keyring-nofuss and other clients check for exactly this id).
ANONYMOUS_ID = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"


def _identity(user_id: str, display_name: str, descriptor: str) -> dict[str, Any]:
    return {"id": user_id, "descriptor": descriptor, "providerDisplayName": display_name, "isActive": True}


def connection_data(fake: FakeAzure, req: Request) -> Response:
    """`GET /{org}/_apis/connectionData`: who the credential is. A refused credential (bad, expired
    or revoked) is not a 401 here but a 200 naming the anonymous identity, as the real service
    answers it (see ANONYMOUS_ID); `fake.connection_data_refusal = "challenge"` gives the old 401."""
    org = fake.find_org(req.params["org"])
    if org is None:
        return vss_error(404, "OrganizationNotFoundException", "no such organization")
    record = authenticate(fake, req, org)
    if record is None:
        if fake.connection_data_refusal == "challenge" or org.kind == "server":
            return refusal(fake, req, org)
        anonymous = _identity(ANONYMOUS_ID, "Anonymous", f"System:PublicAccess;{ANONYMOUS_ID}")
        return json_response(200, {"authenticatedUser": anonymous, "authorizedUser": anonymous,
                                   "instanceId": org.org_id})  # fmt: skip
    user_id = record.oid or record.client_id or str(uuid.uuid4())
    who = _identity(
        user_id, record.username or user_id, f"Microsoft.IdentityModel.Claims.ClaimsIdentity;{user_id}"
    )
    return json_response(200, {"authenticatedUser": who, "authorizedUser": who, "instanceId": org.org_id})


def _allowed(record: IssuedToken, needed: frozenset[str]) -> bool:
    return record.kind == "access" or bool(needed & {s.lower() for s in record.scopes})


# --- token service -------------------------------------------------------------------


def _token_service_caller(
    fake: FakeAzure, req: Request, versions: frozenset[str]
) -> Union[tuple[Org, IssuedToken], Response]:
    org = fake.find_org(req.params["org"])
    if org is None:
        return vss_error(404, "AccountNotFoundException", f"Organization '{req.params['org']}' not found.")
    req.org = org.name
    if org.kind == "server":
        # Azure DevOps Server has no session-token service and no PAT lifecycle API ("Manage
        # personal access tokens using API" documents it for Azure DevOps Services only).
        return vss_error(404, "ResourceNotFoundException", "The requested resource was not found.")
    problem = check_api_version(req, versions)
    if problem is not None:
        return problem
    header = req.header("authorization") or ""
    if header and not header.lower().startswith("bearer "):
        req.auth_kind = "invalid"
        return refusal(fake, req, org)
    caller = authenticate(fake, req, org)
    if caller is None or caller.kind != "access":
        if caller is not None:
            req.auth_kind = "invalid"
        return refusal(fake, req, org)
    return org, caller


def check_api_version(req: Request, versions: frozenset[str]) -> Optional[Response]:
    """400 for a missing or unknown api-version, in the query or the Accept header, as the REST
    APIs answer it ("api-version ... Required", every page of the Azure DevOps REST reference;
    exception names as in VssVersionOutOfRangeException / VssVersionNotSpecifiedException)."""
    version = req.query.get("api-version")
    if version is None:
        match = re.search(r"api-version\s*=\s*([0-9A-Za-z.\-]+)", req.header("accept") or "")
        version = match.group(1) if match else None
    if version is None:
        return vss_error(
            400,
            "VssVersionNotSpecifiedException",
            f'No api-version was supplied for the "{req.method}" request. The version must be supplied '
            'either as part of the Accept header (e.g. "application/json; api-version=1.0") or as a '
            "query parameter (e.g. '?api-version=1.0').",
        )
    if version not in versions:
        return vss_error(
            400,
            "VssVersionOutOfRangeException",
            f"The requested REST API version of {version} is out of range "
            f"for this server. Use one of: {', '.join(sorted(versions))}.",
        )
    return None


def _parse_scopes(value: Any) -> Optional[tuple[str, ...]]:
    if not isinstance(value, str):
        return None
    scopes = tuple(value.split())
    if not scopes or not all(_SCOPE.match(s) for s in scopes):
        return None
    return scopes


def _valid_to(fake: FakeAzure, body: dict[str, Any], default: float) -> Optional[float]:
    raw = body.get("validTo")
    if raw is None:
        return fake.now() + default
    if not isinstance(raw, str):
        return None
    parsed = parse_iso(raw)
    if parsed is None or parsed <= fake.now():
        return None
    return parsed


def _json_object(req: Request) -> Optional[dict[str, Any]]:
    try:
        body = req.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _token_view(record: IssuedToken, org: Org, *, with_secret: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "displayName": record.display_name,
        "validTo": iso(record.expires_at),
        "validFrom": iso(record.issued_at),
        "scope": " ".join(record.scopes),
        "targetAccounts": [org.org_id],
        "authorizationId": record.authorization_id,
        "token": record.secret if with_secret else None,
    }
    return view


def session_token(fake: FakeAzure, req: Request) -> Response:
    """``POST /{org}/_apis/Token/SessionTokens``: Entra token in, org-bound secret out."""
    caller = _token_service_caller(fake, req, SESSION_API_VERSIONS)
    if isinstance(caller, Response):
        return caller
    org, entra = caller
    # The server default when tokenType is absent is not documented; the fake takes it as
    # SelfDescribing. Compact makes a PAT the user sees (VstsSessionTokenClient.cs, VstsTokenType).
    token_type = req.query.get("tokenType", "SelfDescribing")
    if token_type.lower() not in SESSION_TOKEN_TYPES:
        return vss_error(400, "ArgumentException", f"Invalid tokenType {token_type!r}.")
    body = _json_object(req)
    if body is None:
        return vss_error(400, "ArgumentNullException", "Value cannot be null. Parameter name: sessionToken")
    scopes = _parse_scopes(body.get("scope", "app_token"))
    if scopes is None:
        return vss_error(400, "SessionTokenCreateException", f"Invalid scope: {body.get('scope')!r}.")
    valid_to = _valid_to(fake, body, fake.session_token_lifetime)
    if valid_to is None:
        return vss_error(
            400, "SessionTokenCreateException", "validTo must be an ISO 8601 time in the future."
        )
    requested = valid_to
    if token_type.lower() == "selfdescribing":
        # Self-describing session tokens live 24 hours at most (artifacts-credprovider README,
        # `ARTIFACTS_CREDENTIALPROVIDER_SESSIONTIMEMINUTES`): a later validTo is cut there.
        valid_to = min(valid_to, fake.now() + SESSION_MAX_LIFETIME)
    kind = "pat" if token_type.lower() == "compact" else "session"
    record = _issue(fake, kind, org, entra, scopes, valid_to, str(body.get("displayName") or ""))
    record.requested_expires_at = requested
    req.scopes = scopes
    view = _token_view(record, org, with_secret=True)
    view.update(
        clientId="00000000-0000-0000-0000-000000000000",
        accessId=str(uuid.uuid4()),
        userId=entra.oid,
        hostAuthorizationId=str(uuid.uuid4()),
        alternateToken=None,
        isValid=True,
        isPublic=False,
        publicData=None,
        source=None,
        claims=None,
    )
    return json_response(200, view)


def _issue(
    fake: FakeAzure,
    kind: str,
    org: Org,
    entra: IssuedToken,
    scopes: tuple[str, ...],
    valid_to: float,
    display_name: str,
) -> IssuedToken:
    record = IssuedToken(
        secret=new_secret(),
        kind="session" if kind == "session" else "pat",
        tenant=org.tenant,
        expires_at=valid_to,
        issued_at=fake.now(),
        oid=entra.oid,
        client_id=entra.client_id,
        org=org.name,
        scopes=scopes,
        authorization_id=str(uuid.uuid4()),
        display_name=display_name,
        username=entra.username,
    )
    return fake.remember(record)


def pats(fake: FakeAzure, req: Request) -> Response:
    """``/{org}/_apis/tokens/pats``: create (POST), list (GET), revoke (DELETE)."""
    caller = _token_service_caller(fake, req, PAT_API_VERSIONS)
    if isinstance(caller, Response):
        return caller
    org, entra = caller
    if not entra.username:
        # "You can't use service principals or managed identities to create or revoke PATs"
        # (https://learn.microsoft.com/azure/devops/organizations/accounts/manage-personal-access-tokens-via-api).
        # How the API answers is not documented: modelled as the PatTokenResult error
        # `invalidUserType` (an enum value of the API spec) with HTTP 400. Unverified.
        return _pat_error("invalidUserType")
    if req.method == "GET":
        return _pat_list(fake, org, entra)
    if req.method == "DELETE":
        return _pat_revoke(fake, req, org, entra)
    return _pat_create(fake, req, org, entra)


def _pat_error(error: str) -> Response:
    return json_response(400, {"patToken": None, "patTokenError": error})


def _pat_create(fake: FakeAzure, req: Request, org: Org, entra: IssuedToken) -> Response:
    body = _json_object(req)
    if body is None:
        return vss_error(400, "ArgumentNullException", "Value cannot be null. Parameter name: tokenRequest")
    name = body.get("displayName")
    if not isinstance(name, str) or not name.strip():
        return _pat_error("displayNameRequired")
    scopes = _parse_scopes(body.get("scope"))
    if scopes is None:
        return _pat_error("invalidScope")
    if not isinstance(body.get("allOrgs", False), bool):
        return vss_error(400, "ArgumentException", "allOrgs must be a boolean.")
    valid_to = _valid_to(fake, body, fake.pat_default_lifetime)
    if valid_to is None:
        return _pat_error("invalidValidTo")
    # Policy "Restrict personal access token lifespan" (https://learn.microsoft.com/azure/devops/
    # organizations/accounts/manage-pats-with-policies-for-administrators): since sprint 236
    # (azure-devops-docs release notes, March 2024) a longer validTo is shortened to the policy's
    # maximum, not refused. `fake.pat_lifespan = "refuse"` gives the older answer, the
    # PatTokenResult error `patLifespanPolicyViolation`.
    if org.pat_max_lifetime is not None and valid_to - fake.now() > org.pat_max_lifetime + 60:
        requested = valid_to
        if fake.pat_lifespan == "refuse":
            return _pat_error("patLifespanPolicyViolation")
        valid_to = fake.now() + org.pat_max_lifetime
    else:
        requested = valid_to
    record = _issue(fake, "pat", org, entra, scopes, valid_to, name)
    record.requested_expires_at = requested
    req.scopes = scopes
    return json_response(
        200, {"patToken": _token_view(record, org, with_secret=True), "patTokenError": "none"}
    )


def _pat_list(fake: FakeAzure, org: Org, entra: IssuedToken) -> Response:
    mine = [
        _token_view(r, org, with_secret=False)
        for r in fake.issued("pat")
        if (r.org or "").lower() == org.name.lower() and r.oid == entra.oid and not r.revoked
    ]
    return json_response(200, {"continuationToken": None, "patTokens": mine})


def _pat_revoke(fake: FakeAzure, req: Request, org: Org, entra: IssuedToken) -> Response:
    wanted = req.query.get("authorizationId", "")
    for record in fake.issued("pat"):
        if record.authorization_id == wanted and (record.org or "").lower() == org.name.lower():
            if record.oid != entra.oid:
                return vss_error(403, "AccessCheckException", "You cannot revoke another user's token.")
            record.revoked = True
            return Response(204, b"", None)
    return vss_error(404, "SessionTokenNotFoundException", f"Token {wanted!r} not found.")


# --- Azure Pipelines workload identity federation ------------------------------------------


def pipelines_oidc_token(fake: FakeAzure, req: Request) -> Response:
    """``POST {SYSTEM_OIDCREQUESTURI}?serviceConnectionId=...``: an ID token for a service connection.

    As documented in "Oidctoken - Create" (https://learn.microsoft.com/rest/api/azure/devops/
    distributedtask/oidctoken/create): the job's System.AccessToken as Bearer, the answer
    ``{"oidcToken": ...}``; azure-identity's AzurePipelinesCredential sends it with
    ``X-TFS-FedAuthRedirect: Suppress`` (a refusal is a 401 then, else a sign-in page).
    """
    org = fake.find_org(req.params["org"])
    if org is None:
        return vss_error(404, "AccountNotFoundException", f"Organization '{req.params['org']}' not found.")
    req.org = org.name
    problem = check_api_version(req, OIDC_API_VERSIONS)
    if problem is not None:
        return problem
    header = req.header("authorization") or ""
    caller = authenticate(fake, req, org) if header.lower().startswith("bearer ") else None
    if caller is None or caller.kind != "job":
        if header:
            req.auth_kind = "invalid"
        return refusal(fake, req, org)
    connection = fake.pipeline_connections.get(req.query.get("serviceConnectionId", "").lower())
    if connection is None or connection[0].lower() != org.name.lower():
        return vss_error(
            404,
            "ServiceEndpointNotFoundException",
            f"Service connection {req.query.get('serviceConnectionId', '')!r} was not found.",
        )
    name, project, service_connection = connection
    app = next(
        (
            a
            for a in fake.apps.values()
            if a.federated_subject == f"sc://{name}/{project}/{service_connection}"
        ),
        None,
    )
    token = fake.federated_token(
        subject=f"sc://{name}/{project}/{service_connection}",
        issuer=app.federated_issuer if app is not None else None,
    )
    return json_response(200, {"oidcToken": token})


# --- feeds ------------------------------------------------------------------------------


def _feed_for(fake: FakeAzure, req: Request) -> Union[tuple[Org, Feed], Response]:
    org = fake.find_org(req.params["org"])
    if org is None:
        return vss_error(404, "AccountNotFoundException", f"Organization '{req.params['org']}' not found.")
    req.org = org.name
    feed = fake.find_feed(org.name, req.params.get("project"), req.params["feed"])
    if feed is None:
        # Like the service, do not tell anonymous callers whether a feed exists.
        if authenticate(fake, req, org) is None:
            return challenge(fake, org)
        return vss_error(404, "FeedIdNotFoundException", f"Feed '{req.params['feed']}' not found.")
    return org, feed


def feed_role(feed: Feed, record: IssuedToken) -> str:
    """The caller's role on the feed: a user by username or object id, an app by client id or
    object id (a user token's client id is the public client it signed in with, not the user)."""
    names = {record.oid.lower()}
    names.add(record.username.lower() if record.username else record.client_id.lower())
    return next((feed.roles[n] for n in names if n in feed.roles), feed.default_role)


def _authorize_feed(
    fake: FakeAzure, req: Request, org: Org, feed: Feed, needed: frozenset[str]
) -> Optional[Response]:
    record = authenticate(fake, req, org)
    if record is None:
        return challenge(fake, org)
    if not _allowed(record, needed):
        return vss_error(
            403,
            "UnauthorizedRequestException",
            f"The token does not have the scope needed here ({' or '.join(sorted(needed))}).",
        )
    # Reading needs Feed Reader, publishing Feed Publisher (Contributor) ("Manage permissions",
    # https://learn.microsoft.com/azure/devops/artifacts/feeds/feed-permissions). A caller without
    # it gets 403 FeedNeedsPermissionsException "User '<id>' lacks permission to complete this
    # action. You need to have 'ReadPackages'." (as quoted in NuGet/Home issue 9259 and
    # MicrosoftDocs/azure-devops-docs issue 4626); 'AddPackage' for a publish is by analogy.
    write = needed == WRITE_SCOPES
    if FEED_ROLES.index(feed_role(feed, record)) < FEED_ROLES.index("contributor" if write else "reader"):
        permission = "AddPackage" if write else "ReadPackages"
        return vss_error(
            403,
            "FeedNeedsPermissionsException",
            f"User '{record.oid}' lacks permission to complete this action. You need to have '{permission}'.",
        )
    return None


def _authorized_feed(fake: FakeAzure, req: Request, needed: frozenset[str]) -> Union[Feed, Response]:
    """The feed a request names, if its credential may do what `needed` says; else the refusal."""
    found = _feed_for(fake, req)
    if isinstance(found, Response):
        return found
    org, feed = found
    # A public project's feed is readable anonymously ("Public feeds",
    # https://learn.microsoft.com/azure/devops/artifacts/tutorials/share-packages-publicly).
    if feed.anonymous_read and needed == READ_SCOPES and not req.header("authorization"):
        return feed
    denied = _authorize_feed(fake, req, org, feed, needed)
    return feed if denied is None else denied


def _download_url(fake: FakeAzure, feed: Feed, package: Package) -> str:
    project = f"{feed.project_id}/" if feed.project_id else ""
    return (
        f"{fake.base_url}/{feed.org}/{project}_packaging/{feed.feed_id}/pypi/download/"
        f"{normalize(package.name)}/{package.version}/{package.filename}#sha256={package.sha256}"
    )


def simple(fake: FakeAzure, req: Request) -> Response:
    """PEP 503 index (all projects, or one project's files)."""
    found = _authorized_feed(fake, req, READ_SCOPES)
    if isinstance(found, Response):
        return found
    feed = found
    name = req.params.get("name")
    with fake.lock:
        files = list(feed.files)
    if not name:
        projects = sorted({normalize(p.name) for p in files})
        links = "".join(f'<a href="{escape(p)}/">{escape(p)}</a>\n' for p in projects)
        return html_response(200, f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n")
    mine = [p for p in files if normalize(p.name) == normalize(name)]
    if not mine:
        return vss_error(404, "PackageNotFoundException", f"The package '{name}' was not found in the feed.")
    links = "".join(
        f'<a href="{escape(_download_url(fake, feed, p))}" data-requires-python="&gt;=3.7">'
        f"{escape(p.filename)}</a><br/>\n"
        for p in mine
    )
    return html_response(
        200,
        f"<!DOCTYPE html>\n<html><head><title>Links for {escape(name)}</title></head><body>\n"
        f"<h1>Links for {escape(name)}</h1>\n{links}</body></html>\n",
    )


def download(fake: FakeAzure, req: Request) -> Response:
    """A file of the feed; HEAD answers the same headers without the body."""
    found = _authorized_feed(fake, req, READ_SCOPES)
    if isinstance(found, Response):
        return found
    feed = found
    with fake.lock:
        match = next((p for p in feed.files if p.filename == req.params["filename"]), None)
    if match is None:
        return vss_error(404, "PackageNotFoundException", f"'{req.params['filename']}' was not found.")
    content_type = "application/zip" if match.filename.endswith(".whl") else "application/octet-stream"
    return Response(200, match.data, content_type)


def upload(fake: FakeAzure, req: Request) -> Response:
    """twine / ``uv publish`` multipart upload; the file then shows in the index."""
    found = _authorized_feed(fake, req, WRITE_SCOPES)
    if isinstance(found, Response):
        return found
    feed = found
    fields, files = parse_multipart(req.header("content-type") or "", req.body)
    if fields.get(":action") != "file_upload":
        return html_response(400, "<html><body>Bad request: :action must be file_upload.</body></html>")
    name, version = fields.get("name", ""), fields.get("version", "")
    if not name or not version or "content" not in files:
        return html_response(
            400, "<html><body>Bad request: name, version and content are required.</body></html>"
        )
    filename, data = files["content"]
    digest = hashlib.sha256(data).hexdigest()
    if fields.get("sha256_digest") and fields["sha256_digest"].lower() != digest:
        return html_response(400, "<html><body>Bad request: sha256_digest does not match.</body></html>")
    if not re.search(r"\.(whl|tar\.gz|zip)$", filename):
        return html_response(400, "<html><body>Bad request: unsupported file type.</body></html>")
    with fake.lock:
        if any(p.filename == filename for p in feed.files):
            return vss_error(
                409,
                "PackageExistsException",
                f"The feed '{feed.name}' already contains file '{filename}' in package '{name} {version}'.",
            )
        feed.files.append(Package(name, version, filename, data, digest))
    return Response(200, b"", None)


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """Form fields and uploaded files of a multipart/form-data body (stdlib email parser)."""
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    if not content_type.lower().startswith("multipart/form-data"):
        return fields, files
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        return fields, files
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        raw = part.get_payload(decode=True)
        payload = raw if isinstance(raw, bytes) else b""
        filename = part.get_filename()
        if filename:
            files[str(name)] = (str(filename), payload)
        else:
            fields[str(name)] = payload.decode("utf-8", "replace")
    return fields, files


__all__ = [
    "ADO_RESOURCE",
    "challenge",
    "download",
    "parse_multipart",
    "pats",
    "session_token",
    "simple",
    "upload",
]
