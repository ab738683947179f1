"""Azure DevOps endpoints: the token service (session tokens, PATs) and PyPI feeds.

Feed auth follows the service: Basic (any user, secret as password) or Bearer,
with a session token or PAT of this org, or an Entra token of the org's tenant.
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
from .records import Feed, IssuedToken, Org, Package, fingerprint
from .wheels import normalize

if TYPE_CHECKING:
    from .server import FakeAzure

SESSION_API_VERSIONS = frozenset({"5.0-preview.1", "5.0-preview"})
PAT_API_VERSIONS = frozenset({"7.1-preview.1", "7.1-preview", "7.1"})
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
    """The 401 a feed or the token service answers, with the discovery headers clients read."""
    headers = [
        ("WWW-Authenticate", f"Bearer authorization_uri={fake.base_url}/{org.tenant}"),
        ("WWW-Authenticate", f'Basic realm="{fake.base_url}/"'),
        ("WWW-Authenticate", "TFS-Federated"),
        ("X-VSS-ResourceTenant", org.tenant),
        ("X-VSS-AuthorizationEndpoint", f"{fake.base_url}/{org.name}/"),
        ("X-TFS-FedAuthRealm", f"{fake.base_url}/"),
    ]
    body = html_response(status, "<html><body>Access Denied: authentication required.</body></html>", headers)
    return body


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
        if record.tenant.lower() != org.tenant.lower():
            req.auth_kind = "invalid"
            return None
        req.auth_kind = "entra"
    elif record.kind in ("session", "pat"):
        if (record.org or "").lower() != org.name.lower():
            req.auth_kind = "invalid"
            return None
        req.auth_kind = "session" if record.kind == "session" else "pat"
    else:
        req.auth_kind = "invalid"
        return None
    req.scopes = record.scopes
    return record


def connection_data(fake: FakeAzure, req: Request) -> Response:
    """`GET /{org}/_apis/connectionData`: who the credential is, or the 401 challenge."""
    org = fake.find_org(req.params["org"])
    if org is None:
        return vss_error(404, "OrganizationNotFoundException", "no such organization")
    record = authenticate(fake, req, org)
    if record is None:
        return challenge(fake, org)
    body = {"authenticatedUser": {"id": record.oid or "00000000-0000-0000-0000-000000000000"}}
    return json_response(200, body)


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
    if req.query.get("api-version") not in versions:
        return vss_error(
            400,
            "VssVersionOutOfRangeException",
            f"The requested REST API version of {req.query.get('api-version', '(none)')} is out of range "
            f"for this server. Use one of: {', '.join(sorted(versions))}.",
        )
    header = req.header("authorization") or ""
    if header and not header.lower().startswith("bearer "):
        req.auth_kind = "invalid"
        return challenge(fake, org)
    caller = authenticate(fake, req, org)
    if caller is None or caller.kind != "access":
        if caller is not None:
            req.auth_kind = "invalid"
        return challenge(fake, org)
    return org, caller


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
    record = _issue(fake, "session", org, entra, scopes, valid_to, str(body.get("displayName") or ""))
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
    record = _issue(fake, "pat", org, entra, scopes, valid_to, name)
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


def _authorize_feed(fake: FakeAzure, req: Request, org: Org, needed: frozenset[str]) -> Optional[Response]:
    record = authenticate(fake, req, org)
    if record is None:
        return challenge(fake, org)
    if not _allowed(record, needed):
        return vss_error(
            403,
            "UnauthorizedRequestException",
            f"The token does not have the scope needed here ({' or '.join(sorted(needed))}).",
        )
    return None


def _authorized_feed(fake: FakeAzure, req: Request, needed: frozenset[str]) -> Union[Feed, Response]:
    """The feed a request names, if its credential may do what `needed` says; else the refusal."""
    found = _feed_for(fake, req)
    if isinstance(found, Response):
        return found
    org, feed = found
    denied = _authorize_feed(fake, req, org, needed)
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
