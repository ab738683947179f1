"""Which certificates are trusted and which proxy carries a request: one answer for every client.

Trust, decided from the process environment, as requests, msal and azure-core read it (the
first that applies wins):
1. a `ca_bundle` named by the section for the feed's host (requests to that origin only);
2. `REQUESTS_CA_BUNDLE`, then `CURL_CA_BUNDLE`: the variables requests reads, in its order
   (`requests.sessions.merge_environment_settings`); a file or a directory;
3. `SSL_CERT_FILE` and/or `SSL_CERT_DIR`: OpenSSL's variables (uv reads the first too);
4. the OS trust store: on Windows and macOS with Python >= 3.10 through truststore (the
   certificate store, the Keychain), as pip >= 24.2 does; on Linux and other OpenSSL systems
   OpenSSL's default paths, which is what truststore reads there, loaded once per process
   instead of once per connection (see PLATFORM_VERIFIERS); on Python 3.9 the system's
   certificates plus certifi's roots.
A named bundle replaces the other sources, as it does for requests. Verification is never
turned off: the adapter refuses `verify=False`.

We never call `truststore.inject_into_ssl()`: it patches the `ssl` module of the whole
process, and we run inside pip's, twine's or poetry's. Our context is mounted on our own
requests adapters instead (`init_poolmanager(ssl_context=...)`, as pip's session does).

Proxies: `https_proxy`/`http_proxy`/`all_proxy` and `no_proxy` in either case, with the
rules of `urllib.request` (lower case wins), from the same environment. A proxy's
userinfo is only ever shown as `***`.

Nothing here imports requests, ssl contexts or truststore before the first session is built.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

from .errors import ServiceError

OS_STORE = "the OS trust store"
BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
OPENSSL_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")
PROXY_VARIABLES = ("https_proxy", "http_proxy", "all_proxy", "no_proxy")
FIX = "install the company CA in the OS trust store, or set REQUESTS_CA_BUNDLE to a bundle with it"
# Where truststore asks the platform's verifier (Windows CryptoAPI, macOS Security framework): the
# only way to the OS store there. Elsewhere truststore reloads OpenSSL's default paths on every
# connection (its `_openssl._configure_context`); loading them once per process is the same trust
# for less: measured ~100 ms CPU per cold lookup of 2-3 connections (docs/company-networks.md).
PLATFORM_VERIFIERS = ("win32", "darwin")
_DISTRIBUTION_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Gentoo, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL 6
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/pki/tls/cacert.pem",  # OpenELEC
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # CentOS, RHEL 7+
    "/etc/ssl/cert.pem",  # Alpine
)
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")
_contexts: dict[Trust, Any] = {}
_lock = threading.Lock()
_adapter_class: Any = None


@dataclass(frozen=True)
class Trust:
    """Where trust comes from: `source` names it (a variable, `ca_bundle`, or the OS store)."""

    source: str = OS_STORE
    cafile: Optional[str] = None
    capath: Optional[str] = None

    @property
    def named(self) -> bool:
        return self.source != OS_STORE

    def describe(self) -> str:
        if not self.named:
            return OS_STORE
        paths = " and ".join(p for p in (self.cafile, self.capath) if p)
        return f"{self.source}={paths}"


def trust_from(environ: Mapping[str, str]) -> Trust:
    """The trust the environment asks for (see the module docstring)."""
    for name in BUNDLE_VARIABLES:
        value = (environ.get(name) or "").strip()
        if value:
            return Trust(name, capath=value) if os.path.isdir(value) else Trust(name, cafile=value)
    cafile = (environ.get("SSL_CERT_FILE") or "").strip() or None
    capath = (environ.get("SSL_CERT_DIR") or "").strip() or None
    if cafile or capath:
        source = " + ".join(n for n, v in zip(OPENSSL_VARIABLES, (cafile, capath)) if v)
        return Trust(source, cafile=cafile, capath=capath)
    return Trust()


def bundle_trust(path: str, source: str = "ca_bundle") -> Trust:
    """A bundle named by a section's `ca_bundle` option (a file or a directory of hashed certificates)."""
    return Trust(source, capath=path) if os.path.isdir(path) else Trust(source, cafile=path)


def environ_key(environ: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The variables a session is built from: sessions are shared only between equal keys."""
    names = (*BUNDLE_VARIABLES, *OPENSSL_VARIABLES, *PROXY_VARIABLES, *(n.upper() for n in PROXY_VARIABLES))
    return tuple((n, environ[n]) for n in names if n in environ)


def ssl_context(trust: Trust) -> Any:
    """The `ssl.SSLContext` for `trust`: built once per process and shared (contexts are thread-safe)."""
    with _lock:
        context = _contexts.get(trust)
        if context is None:
            context = _build_context(trust)
            _contexts[trust] = context
    return context


def _build_context(trust: Trust) -> Any:
    import ssl

    if trust.named:
        for path in (trust.cafile, trust.capath):
            if path and not os.path.exists(path):
                raise ServiceError(f"{trust.source} names {path}, which does not exist")
        try:
            return ssl.create_default_context(cafile=trust.cafile, capath=trust.capath)
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise ServiceError(f"{trust.describe()}: not a usable CA bundle ({type(exc).__name__})") from None
    if sys.platform in PLATFORM_VERIFIERS and sys.version_info >= (3, 10):
        try:
            import truststore
        except ImportError:  # installed without its dependencies: the fallback below
            pass
        else:
            return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context = _system_bundle_context()
    if sys.version_info < (3, 10) or sys.platform in PLATFORM_VERIFIERS:
        try:  # certifi's public roots beside what the system offers (Python 3.9, as pip did)
            import certifi
        except ImportError:
            return context
        context.load_verify_locations(certifi.where())
    return context


def _system_bundle_context() -> Any:
    """OpenSSL's default paths (the distribution's bundle; SSL_CERT_FILE/SSL_CERT_DIR when set), or,
    for an OpenSSL built with paths that do not exist here, the first bundle a distribution keeps
    (the places Go's crypto/x509 `root_linux.go` looks). On Windows, Python adds the system store."""
    import ssl

    context = ssl.create_default_context()
    defaults = ssl.get_default_verify_paths()
    if defaults.cafile or (defaults.capath and _has_hashed_certificates(defaults.capath)):
        return context
    for candidate in _DISTRIBUTION_BUNDLES:
        if os.path.isfile(candidate):
            context.load_verify_locations(cafile=candidate)
            break
    return context


def _has_hashed_certificates(directory: str) -> bool:
    try:
        return any(re.fullmatch(r"[0-9a-f]{8}\.\d+", name) for name in os.listdir(directory))
    except OSError:
        return False


def proxy_for(url: str, environ: Mapping[str, str]) -> Optional[str]:
    """The proxy URL that carries `url`, or None (no variable, or `no_proxy` names the host)."""
    from urllib.parse import urlsplit

    found: dict[str, str] = {}
    for upper_first in (True, False):  # lower case wins, as in urllib.request.getproxies_environment
        for name in PROXY_VARIABLES:
            key = name.upper() if upper_first else name
            value = (environ.get(key) or "").strip()
            if value:
                found[name[: -len("_proxy")]] = value
    parts = urlsplit(url)
    proxy = found.get(parts.scheme.lower()) or found.get("all")
    if not proxy or not parts.hostname:
        return None
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme.lower())
    if "no" in found and bypassed(parts.hostname, port, found["no"]):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def bypassed(host: str, port: Optional[int], no_proxy: str) -> bool:
    """Does `no_proxy` exempt the host? `*`; a name (its subdomains too, a leading dot optional);
    `name:port`; an IP address or a CIDR network, as curl and requests read the variable."""
    import ipaddress

    host = host.lower().strip("[]").rstrip(".")
    try:
        address: Any = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if entry == "*":
            return True
        with_port = re.fullmatch(r"\[?([^\[\]]+?)\]?:(\d+)", entry)
        if with_port and (entry.startswith("[") or entry.count(":") == 1):  # name:port, [v6]:port
            if port != int(with_port.group(2)):
                continue
            entry = with_port.group(1)
        name = entry.strip("[]").lstrip(".").rstrip(".")
        if not name:
            continue
        if address is not None:
            try:
                if address in ipaddress.ip_network(name, strict=False):
                    return True
            except ValueError:
                pass
        elif host == name or host.endswith("." + name):
            return True
    return False


def hide_userinfo(text: str) -> str:
    """`http://user:secret@proxy:3128` -> `http://***@proxy:3128`, anywhere in `text`."""
    return _USERINFO.sub(r"\1***@", text)


def is_untrusted(exc: BaseException) -> bool:
    """A certificate that did not verify (an unknown issuer, not a wrong host name)?"""
    text = f"{exc!r} {exc}"
    return "CERTIFICATE_VERIFY_FAILED" in text and "Hostname mismatch" not in text


def untrusted(host: str, trust: Trust) -> str:
    """The one line (under 200 characters, the cap of a chain attempt's reason) for a certificate
    no trusted CA signed: which host, checked against what, the usual cause and the two fixes."""
    return (
        f"{host}: certificate not trusted by {trust.source} (CERTIFICATE_VERIFY_FAILED), "
        f"usually a TLS-inspecting proxy: {FIX}"
    )


def session(environ: Mapping[str, str], pinned: Optional[Mapping[str, Trust]] = None, **adapter: Any) -> Any:
    """A requests session with our trust and proxies: `pinned` maps an origin (`https://host:port`)
    to its own trust (a section's `ca_bundle`); `adapter` keywords go to each HTTPAdapter."""
    import requests

    env = dict(environ)

    class _Session(requests.Session):
        def merge_environment_settings(
            self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
        ) -> Any:
            merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
            if not merged.get("proxies"):
                proxy = proxy_for(str(url), env)
                merged["proxies"] = {str(url).split(":", 1)[0].lower(): proxy} if proxy else {}
            return merged

    built = _Session()
    built.trust_env = False  # no os.environ, no ~/.netrc: trust and proxies come from `environ` above
    default = _adapter(ssl_context(trust_from(environ)), adapter)
    built.mount("https://", default)
    built.mount("http://", default)
    for where, trust in (pinned or {}).items():
        own = _adapter(ssl_context(trust), adapter)
        for prefix in _prefixes(where):
            built.mount(prefix, own)
    return built


def origin_key(url: str) -> str:
    """`scheme://host[:port]`, the default port left out: the key of `pinned`."""
    from .urls import format_netloc, origin

    place = origin(url)
    return f"{place.scheme}://{format_netloc(place.scheme, place.host, place.effective_port)}"


def trust_for(url: str, environ: Mapping[str, str], pinned: Optional[Mapping[str, Trust]] = None) -> Trust:
    """The trust a request to `url` is verified with."""
    return (pinned or {}).get(origin_key(url)) or trust_from(environ)


def _prefixes(where: str) -> list[str]:
    """The URL prefixes requests matches for an origin (with and without a default port)."""
    from .urls import origin

    place = origin(where)
    host = f"[{place.host}]" if ":" in place.host else place.host
    prefixes = [f"{place.scheme}://{host}:{place.effective_port}/"]
    if place.port is None or place.port == place.effective_port:
        prefixes.append(f"{place.scheme}://{host}/")
    return prefixes


def _adapter(context: Any, kwargs: Mapping[str, Any]) -> Any:
    global _adapter_class
    if _adapter_class is None:
        from requests.adapters import HTTPAdapter

        class _TrustAdapter(HTTPAdapter):
            """An HTTPAdapter whose pools (direct and through a proxy) use one ssl context."""

            def __init__(self, ssl_context: Any, **kw: Any) -> None:
                self._ssl_context = ssl_context  # before super(): it builds the pool manager
                super().__init__(**kw)

            def init_poolmanager(self, *args: Any, **kw: Any) -> None:
                kw["ssl_context"] = self._ssl_context
                super().init_poolmanager(*args, **kw)

            def proxy_manager_for(self, proxy: str, **kw: Any) -> Any:
                kw["ssl_context"] = self._ssl_context
                return super().proxy_manager_for(proxy, **kw)

            def send(
                self,
                request: Any,
                stream: bool = False,
                timeout: Any = None,
                verify: Any = True,
                cert: Any = None,
                proxies: Any = None,
            ) -> Any:
                # Our context decides; a path in `verify` would be loaded into the shared context.
                if verify is False:
                    raise ValueError("certificate verification is never turned off")
                return super().send(
                    request, stream=stream, timeout=timeout, verify=True, cert=cert, proxies=proxies
                )

            def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
                super().cert_verify(conn, url, verify, cert)
                conn.ca_certs = None  # requests names certifi's bundle, which would join our context
                conn.ca_cert_dir = None

        _adapter_class = _TrustAdapter
    return _adapter_class(context, **kwargs)
