"""`doctor`'s TLS step: for each host a lookup talks to (the feed, the token service, Entra ID),
who issued the certificate it presents and whether the trust we use (tls.py) accepts it.

A handshake only, through the proxy the environment names (CONNECT) when there is one: no
request is sent. When verification fails, a second handshake that does not verify reads the
certificate so the report can name its issuer (a TLS-inspecting proxy shows up as the
company's CA); nothing is ever sent over that connection. This is why it stands outside the
one HTTP client (`http.py`): it carries no credential and sends no request, and it needs the
certificate even when it does not verify, which requests does not give. The issuer is read with
`cryptography`, which msal already depends on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from . import tls
from ._log import one_line
from .errors import AzureArtifactsError
from .keyring_checks import Outcome, failed, ok, skipped

if TYPE_CHECKING:
    from .config.resolve import Resolution


@dataclass(frozen=True)
class Probe:
    """What one host presented: `trusted` None when no certificate was seen (see `error`)."""

    netloc: str
    trust: tls.Trust
    issuer: str = ""
    trusted: Optional[bool] = None
    error: str = ""


def hosts(resolution: Resolution) -> dict[str, list[str]]:
    """The https origins a lookup for this resolution may contact, with what each is for."""
    from .config.settings import entra_less
    from .urls import expand_vssps, origin

    ref, settings = resolution.ref, resolution.settings
    wanted = [("feed", ref.feed_url())]
    if settings.auth in ("session", "pat"):
        wanted.append(
            (
                "token service",
                expand_vssps(settings.vssps_url, ref.org) if settings.vssps_url else ref.default_vssps_url(),
            )
        )
    if not entra_less(ref, settings):
        wanted.append(("Entra ID", settings.authority_host))
    found: dict[str, list[str]] = {}
    for role, url in wanted:
        place = origin(url)
        if place.scheme == "https" and place.host:
            found.setdefault(str(place), []).append(role)
    return found


def check(resolution: Resolution) -> Outcome:
    """The step: ok when every host's certificate is trusted; else which host, whose CA, the fix."""
    found = hosts(resolution)
    if not found:
        return skipped("no https host to check")
    bundle, feed = resolution.settings.ca_bundle, resolution.ref.feed_url()
    trusts = {tls.origin_key(feed): tls.bundle_trust(bundle)} if bundle else {}
    probes = [(roles, probe(url, resolution.settings.timeout, trusts)) for url, roles in found.items()]
    lines = [f"{p.netloc} ({', '.join(roles)}): {_describe(p)}" for roles, p in probes]
    detail = "; ".join(lines)
    if any(p.trusted is False for _, p in probes):
        return failed(detail, f"usually a TLS-inspecting proxy: {tls.FIX}")
    if any(p.trusted is None for _, p in probes):
        return failed(detail, "check the network and HTTPS_PROXY / NO_PROXY")
    return ok(detail)


def _describe(found: Probe) -> str:
    if found.trusted is None:
        return found.error
    verdict = "trusted" if found.trusted else "NOT trusted"
    return f"certificate issued by {found.issuer or 'an unnamed CA'}, {verdict} by {found.trust.describe()}"


def probe(url: str, timeout: float, pinned: Optional[Mapping[str, tls.Trust]] = None) -> Probe:
    """Handshake with `url`'s origin under the trust a request there gets."""
    import ssl

    from .urls import origin

    place = origin(url)
    port = place.effective_port or 443
    trust = tls.trust_for(url, os.environ, pinned)
    proxy = tls.proxy_for(url, os.environ)
    try:
        context = tls.ssl_context(trust)
    except AzureArtifactsError as exc:
        return Probe(place.netloc, trust, error=one_line(exc))
    try:
        return Probe(
            place.netloc, trust, _issuer(_handshake(place.host, port, proxy, context, timeout)), True
        )
    except ssl.SSLCertVerificationError as exc:
        if not tls.is_untrusted(exc):  # a wrong host name, an expired certificate: say so
            return Probe(place.netloc, trust, error=one_line(getattr(exc, "verify_message", "") or exc))
    except (OSError, ValueError) as exc:
        return Probe(place.netloc, trust, error=f"no TLS handshake: {tls.hide_userinfo(one_line(exc))}")
    try:
        der = _handshake(place.host, port, proxy, _reading_context(), timeout)
    except (OSError, ValueError) as exc:
        return Probe(place.netloc, trust, trusted=False, error=one_line(exc))
    return Probe(place.netloc, trust, _issuer(der), False)


def _reading_context() -> Any:
    """A context that accepts any certificate: used only to read the certificate's issuer."""
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _handshake(host: str, port: int, proxy: Optional[str], context: Any, timeout: float) -> bytes:
    """The DER certificate `host:port` presents, reached directly or through `proxy`'s CONNECT."""
    import base64
    import http.client
    from urllib.parse import unquote, urlsplit

    if proxy:
        parts = urlsplit(proxy)
        conn = http.client.HTTPSConnection(
            parts.hostname or "", parts.port or 8080, context=context, timeout=timeout
        )
        headers = {}
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            headers["Proxy-Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        conn.set_tunnel(host, port, headers=headers)
    else:
        conn = http.client.HTTPSConnection(host, port, context=context, timeout=timeout)
    try:
        conn.connect()
        der = conn.sock.getpeercert(binary_form=True)
    finally:
        conn.close()
    if not der:
        raise ValueError("no certificate presented")
    return bytes(der)


def _issuer(der: bytes) -> str:
    """The issuer's common name and organization (or its whole name), from the DER certificate."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    name = x509.load_der_x509_certificate(der).issuer
    parts = [
        f"{label}={attr.value if isinstance(attr.value, str) else attr.value.decode(errors='replace')}"
        for label, oid in (("CN", NameOID.COMMON_NAME), ("O", NameOID.ORGANIZATION_NAME))
        for attr in name.get_attributes_for_oid(oid)
    ]
    return "'" + (", ".join(parts) if parts else name.rfc4514_string())[:120] + "'"
