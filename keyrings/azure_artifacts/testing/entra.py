"""Microsoft Entra ID endpoints: discovery, token grants, device code, authorize,
managed identity and the GitHub Actions OIDC token request.

Errors mirror Entra's shape (``error``, ``error_description`` starting with an
AADSTS code, ``error_codes``) because msal and azure-identity parse exactly that.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Optional, Union
from urllib.parse import urlencode, urlparse

from . import _jwt
from ._http import Request, Response, html_response, json_response
from .records import App, IssuedToken, PendingDevice, fingerprint

if TYPE_CHECKING:
    from .server import FakeAzure

ADO_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798"
ADO_SCOPE = f"{ADO_RESOURCE}/.default"
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
TENANT_ALIASES = frozenset({"common", "organizations", "consumers"})
FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def is_guid(text: str) -> bool:
    return bool(_GUID.match(text))


def user_oid(username: str) -> str:
    """A stable object id per username, so two processes see the same account."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "user:" + username.lower()))


def app_oid(client_id: str, tenant: str) -> str:
    """A stable service-principal object id per app and tenant."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sp:{client_id.lower()}:{tenant.lower()}"))


def aad_error(status: int, error: str, code: int, description: str) -> Response:
    """An error body as Entra sends it."""
    return json_response(
        status,
        {
            "error": error,
            "error_description": f"AADSTS{code}: {description}",
            "error_codes": [code],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        },
    )


# --- discovery ---------------------------------------------------------------


def openid_configuration(fake: FakeAzure, req: Request) -> Response:
    """The OIDC document msal reads once per application object."""
    segment = req.params["tenant"]
    tenant = fake.resolve_tenant(segment)
    if tenant is None:
        return aad_error(400, "invalid_tenant", 90002, f"Tenant '{segment}' not found.")
    base = f"{fake.base_url}/{segment}"
    issuer_tenant = "{tenantid}" if segment.lower() in TENANT_ALIASES else tenant
    return json_response(
        200,
        {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{fake.base_url}/{issuer_tenant}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{fake.base_url}/oidc/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "oid", "tid"],
            "tenant_region_scope": None,
            "cloud_instance_name": fake.host,
            "cloud_graph_host_name": fake.host,
            "msgraph_host": fake.host,
        },
    )


def instance_discovery(fake: FakeAzure, req: Request) -> Response:
    """What msal asks before trusting an authority host it does not know."""
    endpoint = req.query.get("authorization_endpoint", "")
    parts = [p for p in urlparse(endpoint).path.split("/") if p]
    tenant = parts[0] if parts else "common"
    return json_response(
        200,
        {
            "tenant_discovery_endpoint": f"{fake.base_url}/{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": req.query.get("api-version", "1.1"),
            "metadata": [
                {"preferred_network": fake.host, "preferred_cache": fake.host, "aliases": [fake.host]}
            ],
        },
    )


# --- scopes and tokens ---------------------------------------------------------


def check_scopes(raw: str, *, user_flow: bool) -> Union[tuple[str, ...], Response]:
    """The Azure DevOps ``.default`` scope, plus OIDC scopes for user flows; else invalid_scope."""
    scopes = tuple(s for s in raw.replace(",", " ").split() if s)
    lowered = {s.lower() for s in scopes}
    extra = lowered - {ADO_SCOPE} - (RESERVED_SCOPES if user_flow else frozenset())
    if ADO_SCOPE not in lowered or extra:
        bad = " ".join(sorted(extra)) or raw or "(none)"
        return aad_error(
            400,
            "invalid_scope",
            70011,
            f"The provided request must include a 'scope' input parameter. The provided value "
            f"for the input parameter 'scope' is not valid: {bad}. Use {ADO_SCOPE}.",
        )
    return scopes


def issue_access_token(
    fake: FakeAzure,
    *,
    tenant: str,
    client_id: str,
    oid: str,
    username: Optional[str],
) -> IssuedToken:
    """An Entra access token for Azure DevOps, remembered by the fake.

    Claims as Microsoft Learn's "Access token claims reference" and "Optional claims reference"
    describe them for a resource that takes v1.0 tokens, as Azure DevOps does: `appid` names the
    client (`azp` is v2.0's name); a person's token carries `scp`, `upn` and `unique_name`; an
    app-only token carries no `scp` and the optional `idtyp = app` ("only in app-only access
    tokens"); a claim with no value (an empty `roles`) is left out.
    """
    now = fake.now()
    exp = now + fake.token_lifetime
    claims: dict[str, object] = {
        "aud": ADO_RESOURCE,
        "iss": fake.issuer(tenant),
        "iat": int(now),
        "nbf": int(now) - 300,
        "exp": int(exp),
        "tid": tenant,
        "oid": oid,
        "sub": oid,
        "appid": client_id,
        "ver": "1.0",
        "uti": secrets.token_urlsafe(16),
    }
    if username is None:
        claims.update(idtyp="app")
    else:
        claims.update(scp="user_impersonation", upn=username, unique_name=username, name=_display(username))
    token = _jwt.encode_hs256(claims, fake.signing_key)
    record = IssuedToken(
        secret=token,
        kind="access",
        tenant=tenant,
        expires_at=exp,
        issued_at=now,
        oid=oid,
        client_id=client_id,
        scopes=(ADO_SCOPE,),
        username=username or "",
    )
    return fake.remember(record)


def _display(username: str) -> str:
    local = username.split("@", 1)[0]
    return " ".join(part.capitalize() for part in re.split(r"[._-]+", local) if part) or username


def app_token_response(fake: FakeAzure, tenant: str, client_id: str) -> Response:
    token = issue_access_token(
        fake, tenant=tenant, client_id=client_id, oid=app_oid(client_id, tenant), username=None
    )
    lifetime = int(token.expires_at - token.issued_at)
    return json_response(
        200,
        {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token.secret,
        },
    )


def user_token_response(
    fake: FakeAzure,
    *,
    tenant: str,
    client_id: str,
    username: str,
    scopes: tuple[str, ...],
    nonce: Optional[str],
    want_client_info: bool,
) -> Response:
    """Access, refresh and id token plus client_info: what msal caches an account from."""
    oid = user_oid(username)
    access = issue_access_token(fake, tenant=tenant, client_id=client_id, oid=oid, username=username)
    lifetime = int(access.expires_at - access.issued_at)
    granted = [f"{ADO_RESOURCE}/user_impersonation", ADO_SCOPE]
    granted += [s for s in ("openid", "profile", "email", "offline_access") if s in scopes]
    body: dict[str, object] = {
        "token_type": "Bearer",
        "scope": " ".join(granted),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access.secret,
    }
    now = fake.now()
    if "offline_access" in scopes:
        refresh = IssuedToken(
            secret=secrets.token_urlsafe(48),
            kind="refresh",
            tenant=tenant,
            expires_at=now + fake.refresh_token_lifetime,
            issued_at=now,
            oid=oid,
            client_id=client_id,
            scopes=scopes,
            username=username,
        )
        body["refresh_token"] = fake.remember(refresh).secret
    if "openid" in scopes:
        claims: dict[str, object] = {
            "aud": client_id,
            "iss": fake.issuer(tenant),
            "iat": int(now),
            "nbf": int(now),
            "exp": int(now) + 3600,
            "sub": hashlib.sha256(f"{oid}:{client_id}".encode()).hexdigest()[:43],
            "oid": oid,
            "tid": tenant,
            "preferred_username": username,
            "name": _display(username),
            "ver": "2.0",
        }
        if nonce:
            claims["nonce"] = nonce
        body["id_token"] = _jwt.encode_hs256(claims, fake.signing_key)
    if want_client_info:
        body["client_info"] = _jwt.b64url(json.dumps({"uid": oid, "utid": tenant}).encode())
    return json_response(200, body)


# --- token endpoint -------------------------------------------------------------


def token(fake: FakeAzure, req: Request) -> Response:
    """``/{tenant}/oauth2/v2.0/token``: dispatch on grant_type."""
    form = req.form()
    req.grant_type = form.get("grant_type")
    req.client_id = form.get("client_id")
    tenant = fake.resolve_tenant(req.params["tenant"])
    if tenant is None:
        return aad_error(400, "invalid_request", 90002, f"Tenant '{req.params['tenant']}' not found.")
    grants = {
        "client_credentials": _client_credentials,
        "refresh_token": _refresh_token,
        _DEVICE_GRANT: _device_code_grant,
        "authorization_code": _authorization_code,
    }
    grant = grants.get(form.get("grant_type", ""))
    if grant is None:
        return aad_error(
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{form.get('grant_type', '')}'.",
        )
    return grant(fake, req, form, tenant)


def _public_client(fake: FakeAzure, form: dict[str, str], tenant: str = "") -> Optional[Response]:
    """Only a registered public client may sign a user in (device code, code, refresh): an
    unknown id is AADSTS700016, a confidential app without its secret AADSTS7000218
    (https://learn.microsoft.com/entra/identity-platform/reference-error-codes)."""
    client_id = form.get("client_id", "")
    if not client_id:
        return aad_error(400, "invalid_request", 900144, "The request body must contain 'client_id'.")
    app = fake.apps.get(client_id.lower()) if is_guid(client_id) else None
    if app is None:
        return aad_error(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory '{tenant}'.",
        )
    if not app.public:
        return aad_error(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    return None


def redirect_uri_registered(app: App, redirect_uri: str) -> bool:
    """Exact match, except that the port of an http loopback URI is ignored
    (https://learn.microsoft.com/entra/identity-platform/reply-url#localhost-exceptions)."""
    wanted = urlparse(redirect_uri)
    for registered in app.redirect_uris:
        if registered == redirect_uri:
            return True
        reg = urlparse(registered)
        if (
            reg.scheme == wanted.scheme == "http"
            and reg.hostname in ("localhost", "127.0.0.1")
            and reg.hostname == wanted.hostname
            and reg.path.rstrip("/") == wanted.path.rstrip("/")
        ):
            return True
    return False


def _client_credentials(fake: FakeAzure, req: Request, form: dict[str, str], tenant: str) -> Response:
    scopes = check_scopes(form.get("scope", ""), user_flow=False)
    if isinstance(scopes, Response):
        return scopes
    req.scopes = scopes
    client_id, secret = form.get("client_id", ""), form.get("client_secret")
    basic = _basic_client_auth(req)
    if basic is not None:
        client_id, secret = basic
        req.client_id = client_id
    app = fake.apps.get(client_id.lower())
    if app is None:
        return aad_error(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory '{tenant}'.",
        )
    if secret is not None:
        req.secret_fingerprint = fingerprint(secret)
        if app.secret is None or not hmac.compare_digest(secret, app.secret):
            return aad_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
    elif "client_assertion" in form:
        if form.get("client_assertion_type") != _ASSERTION_TYPE:
            return aad_error(401, "invalid_client", 7000219, "'client_assertion_type' is invalid.")
        problem = _check_assertion(fake, app, form["client_assertion"], tenant)
        if problem is not None:
            return problem
    else:
        return aad_error(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    if app.signed_in_user is not None:  # the fake CLIs: a user who ran `az login`
        return user_token_response(
            fake,
            tenant=tenant,
            client_id=app.client_id,
            username=app.signed_in_user,
            scopes=scopes,
            nonce=None,
            want_client_info=False,
        )
    return app_token_response(fake, tenant, app.client_id)


def _basic_client_auth(req: Request) -> Optional[tuple[str, str]]:
    header = req.header("authorization") or ""
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except ValueError:
        return None
    return user, password


def _check_assertion(fake: FakeAzure, app: App, assertion: str, tenant: str) -> Optional[Response]:
    """Certificate (x5t header) or federated (a token the fake minted) client assertion."""
    parts = _jwt.split(assertion)
    if parts is None:
        return aad_error(401, "invalid_client", 50027, "JWT token is invalid or malformed.")
    header, claims, signing_input, signature = parts
    if "x5t" in header or "x5t#S256" in header:
        return _check_certificate_assertion(fake, app, header, claims, signing_input, signature)
    record = fake.lookup(assertion)
    if record is None or record.kind != "federated" or record.revoked:
        return aad_error(
            401,
            "invalid_client",
            700211,
            "No matching federated identity record found for presented assertion issuer.",
        )
    if record.expires_at <= fake.now():
        return aad_error(
            401, "invalid_client", 700024, "Client assertion is not within its valid time range."
        )
    if claims.get("aud") != FEDERATED_AUDIENCE:
        return aad_error(
            401,
            "invalid_client",
            700212,
            "No matching federated identity record found for presented assertion audience.",
        )
    if app.federated_issuer is not None and claims.get("iss") != app.federated_issuer:
        return aad_error(
            401,
            "invalid_client",
            700211,
            "No matching federated identity record found for presented assertion issuer "
            f"'{claims.get('iss')}'.",
        )
    if app.federated_subject is None or claims.get("sub") != app.federated_subject:
        return aad_error(
            401,
            "invalid_client",
            700213,
            "No matching federated identity record found for presented assertion subject "
            f"'{claims.get('sub')}'.",
        )
    return None


def _check_certificate_assertion(
    fake: FakeAzure,
    app: App,
    header: dict[str, object],
    claims: dict[str, object],
    signing_input: bytes,
    signature: bytes,
) -> Optional[Response]:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    if app.certificate_pem is None:
        return aad_error(401, "invalid_client", 700027, "Client assertion contains an invalid signature.")
    cert = x509.load_pem_x509_certificate(app.certificate_pem)
    der = cert.public_bytes(serialization.Encoding.DER)
    thumbprints = {
        "x5t": _jwt.b64url(hashlib.sha1(der).digest()),
        "x5t#S256": _jwt.b64url(hashlib.sha256(der).digest()),
    }
    # msal pads its base64url thumbprints; JOSE says no padding: accept both.
    if not any(str(header.get(name, "")).rstrip("=") == value for name, value in thumbprints.items()):
        return aad_error(
            401,
            "invalid_client",
            700027,
            "The certificate with identifier used to sign the client assertion "
            "is not registered on application.",
        )
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        return aad_error(401, "invalid_client", 700027, "Only RSA certificates are supported.")
    alg = header.get("alg")
    pad: padding.AsymmetricPadding
    if alg == "RS256":
        pad = padding.PKCS1v15()
    elif alg == "PS256":
        pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
    else:
        return aad_error(401, "invalid_client", 5002738, f"Unsupported assertion algorithm {alg!r}.")
    try:
        key.verify(signature, signing_input, pad, hashes.SHA256())
    except InvalidSignature:
        return aad_error(401, "invalid_client", 700027, "Client assertion contains an invalid signature.")
    exp = claims.get("exp")
    if claims.get("sub") != app.client_id or not isinstance(exp, (int, float)) or exp <= fake.now():
        return aad_error(
            401, "invalid_client", 700024, "Client assertion is not within its valid time range."
        )
    return None


def _refresh_token(fake: FakeAzure, req: Request, form: dict[str, str], tenant: str) -> Response:
    problem = _public_client(fake, form, tenant)
    if problem is not None:
        return problem
    raw = form.get("refresh_token", "")
    req.secret_fingerprint = fingerprint(raw) if raw else None
    record = fake.lookup(raw)
    if record is None or record.kind != "refresh":
        return aad_error(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
    if record.revoked:
        return aad_error(
            400, "invalid_grant", 50173, "The provided grant has expired due to it being revoked."
        )
    if record.expires_at <= fake.now():
        return aad_error(400, "invalid_grant", 700082, "The refresh token has expired due to inactivity.")
    if record.client_id.lower() != form["client_id"].lower():
        return aad_error(400, "invalid_grant", 70000, "The refresh token was issued to a different client.")
    scopes = check_scopes(form.get("scope") or " ".join(record.scopes), user_flow=True)
    if isinstance(scopes, Response):
        return scopes
    req.scopes = scopes
    return user_token_response(
        fake,
        tenant=record.tenant,
        client_id=record.client_id,
        username=record.username,
        scopes=scopes,
        nonce=None,
        want_client_info=form.get("client_info") == "1",
    )


# --- device code -------------------------------------------------------------------


def devicecode(fake: FakeAzure, req: Request) -> Response:
    """Start a device-code sign-in answered later by the scripted user."""
    form = req.form()
    req.client_id = form.get("client_id")
    tenant = fake.resolve_tenant(req.params["tenant"])
    if tenant is None:
        return aad_error(400, "invalid_request", 90002, f"Tenant '{req.params['tenant']}' not found.")
    problem = _public_client(fake, form, tenant)
    if problem is not None:
        return problem
    scopes = check_scopes(form.get("scope", ""), user_flow=True)
    if isinstance(scopes, Response):
        return scopes
    req.scopes = scopes
    now = fake.now()
    code = fake.remember(
        IssuedToken(
            secret=secrets.token_urlsafe(32),
            kind="device_code",
            tenant=tenant,
            expires_at=now + 900,
            issued_at=now,
            client_id=form["client_id"],
            scopes=scopes,
        )
    )
    user_code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
    fake.pending_devices[code.secret] = PendingDevice(
        client_id=form["client_id"], tenant=tenant, scopes=scopes, user=fake.device_script
    )
    uri = f"{fake.base_url}/devicelogin"
    return json_response(
        200,
        {
            "user_code": user_code,
            "device_code": code.secret,
            "verification_uri": uri,
            "expires_in": 900,
            "interval": fake.device_code_interval,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the code "
            f"{user_code} to authenticate.",
        },
    )


def _device_code_grant(fake: FakeAzure, req: Request, form: dict[str, str], tenant: str) -> Response:
    problem = _public_client(fake, form, tenant)
    if problem is not None:
        return problem
    code = form.get("device_code", "")
    record = fake.lookup(code)
    pending = fake.pending_devices.get(code)
    if record is None or record.kind != "device_code" or pending is None:
        return aad_error(
            400, "invalid_grant", 70000, "The provided device code is invalid or already redeemed."
        )
    if record.expires_at <= fake.now():
        return aad_error(400, "expired_token", 70019, "Verification code expired.")
    if pending.client_id.lower() != form["client_id"].lower():
        return aad_error(400, "invalid_grant", 70000, "The device code was issued to a different client.")
    req.scopes = pending.scopes
    pending.polls += 1
    if pending.polls < pending.user.approve_after_polls:
        return aad_error(
            400,
            "authorization_pending",
            70016,
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        )
    del fake.pending_devices[code]
    if pending.user.deny:
        return aad_error(400, "authorization_declined", 70000, "The user declined the sign-in.")
    return user_token_response(
        fake,
        tenant=pending.tenant,
        client_id=pending.client_id,
        username=pending.user.username,
        scopes=pending.scopes,
        nonce=None,
        want_client_info=form.get("client_info") == "1",
    )


# --- authorization code ----------------------------------------------------------------


@dataclass
class AuthCode:
    """What /authorize promised the token endpoint."""

    client_id: str
    tenant: str
    redirect_uri: str
    scopes: tuple[str, ...]
    nonce: Optional[str]
    code_challenge: Optional[str]
    code_challenge_method: str
    username: str


def authorize(fake: FakeAzure, req: Request) -> Response:
    """Sign the browser user in at once and send the code back to the redirect URI."""
    q = req.query
    req.client_id = q.get("client_id")
    tenant = fake.resolve_tenant(req.params["tenant"])
    redirect_uri = q.get("redirect_uri", "")
    if tenant is None or not redirect_uri or not is_guid(q.get("client_id", "")):
        return html_response(400, "<h1>Sorry, but we're having trouble signing you in.</h1>")
    # Entra shows its error page instead of redirecting to an unregistered URI.
    app = fake.apps.get(q["client_id"].lower())
    if app is None or not app.public:
        return html_response(
            400,
            f"<h1>Sorry, but we're having trouble signing you in.</h1><p>AADSTS700016: Application with "
            f"identifier '{escape(q['client_id'])}' was not found in the directory.</p>",
        )
    if not redirect_uri_registered(app, redirect_uri):
        return html_response(
            400,
            f"<h1>Sorry, but we're having trouble signing you in.</h1><p>AADSTS50011: The redirect URI "
            f"'{escape(redirect_uri)}' specified in the request does not match the redirect URIs "
            f"configured for the application '{escape(q['client_id'])}'.</p>",
        )
    if q.get("response_type") != "code":
        return _redirect(redirect_uri, q, {"error": "unsupported_response_type"})
    scopes = check_scopes(q.get("scope", ""), user_flow=True)
    if isinstance(scopes, Response):
        return _redirect(redirect_uri, q, {"error": "invalid_scope", "error_description": "AADSTS70011"})
    req.scopes = scopes
    now = fake.now()
    code = fake.remember(
        IssuedToken(
            secret=secrets.token_urlsafe(32),
            kind="auth_code",
            tenant=tenant,
            expires_at=now + 600,
            issued_at=now,
            client_id=q["client_id"],
            scopes=scopes,
        )
    )
    fake.pending_codes[code.secret] = AuthCode(
        client_id=q["client_id"],
        tenant=tenant,
        redirect_uri=redirect_uri,
        scopes=scopes,
        nonce=q.get("nonce"),
        code_challenge=q.get("code_challenge"),
        code_challenge_method=q.get("code_challenge_method", "plain"),
        username=q.get("login_hint") or fake.browser_username,
    )
    return _redirect(redirect_uri, q, {"code": code.secret})


def _redirect(redirect_uri: str, query: dict[str, str], values: dict[str, str]) -> Response:
    if "state" in query:
        values = {**values, "state": query["state"]}
    if query.get("response_mode") == "form_post":
        fields = "".join(
            f'<input type="hidden" name="{escape(k)}" value="{escape(v)}"/>' for k, v in values.items()
        )
        return html_response(
            200,
            f'<html><body onload="document.forms[0].submit()"><form method="post" '
            f'action="{escape(redirect_uri)}">{fields}</form></body></html>',
        )
    sep = "&" if "?" in redirect_uri else "?"
    return Response(302, b"", None, [("Location", redirect_uri + sep + urlencode(values))])


def _authorization_code(fake: FakeAzure, req: Request, form: dict[str, str], tenant: str) -> Response:
    problem = _public_client(fake, form, tenant)
    if problem is not None:
        return problem
    code = form.get("code", "")
    pending = fake.pending_codes.pop(code, None)
    record = fake.lookup(code)
    if pending is None or record is None:
        return aad_error(
            400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed or is invalid."
        )
    if record.expires_at <= fake.now():
        return aad_error(400, "invalid_grant", 70008, "The provided authorization code has expired.")
    if pending.client_id.lower() != form["client_id"].lower() or pending.redirect_uri != form.get(
        "redirect_uri"
    ):
        return aad_error(
            400, "invalid_grant", 50148, "The code was issued for a different client or redirect URI."
        )
    if pending.code_challenge is not None:
        verifier = form.get("code_verifier", "")
        if pending.code_challenge_method == "S256":
            computed = _jwt.b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
        else:
            computed = verifier
        if not hmac.compare_digest(computed, pending.code_challenge):
            return aad_error(
                400, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge."
            )
    req.scopes = pending.scopes
    return user_token_response(
        fake,
        tenant=pending.tenant,
        client_id=pending.client_id,
        username=pending.username,
        scopes=pending.scopes,
        nonce=pending.nonce,
        want_client_info=form.get("client_info") == "1",
    )


# --- managed identity and GitHub OIDC -----------------------------------------------------


def _resource_ok(resource: str) -> bool:
    return resource.rstrip("/").lower() in {ADO_RESOURCE, ADO_SCOPE}


def _managed_identity_token(fake: FakeAzure, req: Request) -> IssuedToken:
    client_id = req.query.get("client_id") or fake.managed_identity_client_id
    req.client_id = client_id
    req.scopes = (ADO_SCOPE,)
    tenant = fake.managed_identity_tenant or fake.default_tenant
    return issue_access_token(
        fake, tenant=tenant, client_id=client_id, oid=app_oid(client_id, tenant), username=None
    )


def msi(fake: FakeAzure, req: Request) -> Response:
    """App Service style managed identity (``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER``)."""
    header = req.header("x-identity-header")
    if header is None:
        return json_response(400, {"statusCode": 400, "message": "X-IDENTITY-HEADER is missing."})
    if not hmac.compare_digest(header, fake.identity_header):
        return json_response(401, {"statusCode": 401, "message": "X-IDENTITY-HEADER is not valid."})
    if req.query.get("api-version") != "2019-08-01":
        return json_response(400, {"statusCode": 400, "message": "Unsupported api-version."})
    resource = req.query.get("resource", "")
    if not _resource_ok(resource):
        return json_response(
            500,
            {
                "statusCode": 500,
                "message": f"AADSTS500011: The resource principal named {resource} was not found.",
            },
        )
    issued = _managed_identity_token(fake, req)
    return json_response(
        200,
        {
            "access_token": issued.secret,
            "expires_on": str(int(issued.expires_at)),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": issued.client_id,
        },
    )


def imds(fake: FakeAzure, req: Request) -> Response:
    """IMDS style managed identity, as reached through ``AZURE_POD_IDENTITY_AUTHORITY_HOST``."""
    if (req.header("metadata") or "").lower() != "true":
        return json_response(
            400, {"error": "invalid_request", "error_description": "Required metadata header not specified"}
        )
    if req.query.get("api-version") not in {"2018-02-01", "2019-08-01"}:
        return json_response(
            400, {"error": "invalid_request", "error_description": "Invalid API version specified."}
        )
    resource = req.query.get("resource", "")
    if not _resource_ok(resource):
        return json_response(
            400,
            {
                "error": "invalid_resource",
                "error_description": f"AADSTS500011: The resource principal named {resource} was not found.",
            },
        )
    issued = _managed_identity_token(fake, req)
    lifetime = str(int(issued.expires_at - issued.issued_at))
    return json_response(
        200,
        {
            "access_token": issued.secret,
            "refresh_token": "",
            "expires_in": lifetime,
            "expires_on": str(int(issued.expires_at)),
            "ext_expires_in": lifetime,
            "not_before": str(int(issued.issued_at)),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": issued.client_id,
        },
    )


def github_oidc(fake: FakeAzure, req: Request) -> Response:
    """The Actions runtime's ID-token endpoint (``ACTIONS_ID_TOKEN_REQUEST_URL``)."""
    header = req.header("authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip(), fake.github_request_token):
        req.auth_kind = "invalid" if header else "anonymous"
        return json_response(401, {"message": "Bad credentials"})
    audience = req.query.get("audience") or FEDERATED_AUDIENCE
    jwt = fake.federated_token(
        subject=fake.github_subject, audience=audience, issuer=f"{fake.base_url}/_github"
    )
    return json_response(200, {"count": 1, "value": jwt})
