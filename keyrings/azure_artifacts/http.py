"""The one HTTP client: timeouts on every call, bounded retries, safe redirects, redacted errors.

`requests` and `urllib3` are imported on first use so that loading this module
costs nothing for services that are not ours.

Retry policy (urllib3 `Retry` through a requests adapter):
- GET, HEAD, DELETE, OPTIONS: retried on connection errors, read errors/timeouts and
  HTTP 429/500/502/503/504, with exponential back-off plus jitter and `Retry-After`
  honoured (capped at `MAX_RETRY_AFTER` seconds so a server cannot park us).
- POST: retried only where the server cannot have acted on it — connection errors
  (nothing was sent) and HTTP 429/503 (the server said "not now"). A read timeout or
  a 500/502/504 after a POST is *not* retried: a PAT creation that did succeed
  server-side would otherwise be created twice.
- 4xx other than 429 are never retried (an auth refusal will not change), nor TLS errors (an
  untrusted certificate will not become trusted).

Trust (OS store, CA bundles) and proxies are decided in `tls.py` for every client we use.

Redirects are followed by hand (at most `MAX_REDIRECTS`): the Authorization header
is dropped whenever scheme, host or port change, and an https -> http downgrade is
refused, so a token only ever reaches the origin it was meant for. A redirect to a
sign-in page is never followed: it is Azure DevOps refusing the credential.

Every request carries `X-TFS-FedAuthRedirect: Suppress` unless the caller opts out (the
anonymous discovery request must see the real challenge): without it Azure DevOps answers
a refused credential with HTTP 203 and an HTML sign-in page, or a 302 to the sign-in host,
instead of 401 (MicrosoftDocs/vsts-rest-api-specs issue 97; azure-identity's
AzurePipelinesCredential sends the header for the same reason). `refused()` is the one
place that reads all three answers as "refused".
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin, urlsplit

from ._log import get_logger, redact
from .errors import ServiceError, UntrustedCertificate
from .urls import origin

if TYPE_CHECKING:
    from .tls import Trust

MAX_REDIRECTS = 5
MAX_RETRY_AFTER = 10.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
POST_RETRY_STATUSES = frozenset({429, 503})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS", "PUT", "TRACE"})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie")
SUPPRESS_SIGN_IN = ("X-TFS-FedAuthRedirect", "Suppress")
# Azure DevOps' sign-in hosts (its own `_signin` pages live under the vssps hosts).
_SIGN_IN_HOSTS = frozenset({"app.vssps.visualstudio.com", "spsprodcus1.vssps.visualstudio.com"})


class HttpResponse(Protocol):
    """The part of `requests.Response` we rely on (typed here to keep requests lazy)."""

    status_code: int
    url: str
    headers: Mapping[str, str]
    content: bytes
    text: str

    def json(self) -> Any: ...


def _origin(url: str) -> tuple[str, str, int | None]:
    where = origin(url)
    return where.scheme, where.host, where.effective_port


def _safe_url(url: str) -> str:
    """The URL without userinfo, query or fragment: what we may put in a message."""
    return f"{origin(url)}{urlsplit(url).path}"


def _retry_class() -> type[Any]:
    """A urllib3 Retry that applies the POST policy described in the module docstring."""
    from urllib3.util.retry import Retry

    class _Retry(Retry):
        def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
            if method.upper() == "POST":
                return bool(self.total) and status_code in POST_RETRY_STATUSES
            return bool(super().is_retry(method, status_code, has_retry_after))

        def get_retry_after(self, response: Any) -> float | None:
            value = super().get_retry_after(response)
            return None if value is None else min(float(value), MAX_RETRY_AFTER)

    return _Retry


class Http:
    """A requests session with our timeout, retry and redirect policy; one per process is enough."""

    def __init__(
        self,
        timeout: float = 20.0,
        retries: int = 3,
        backoff: float = 0.5,
        *,
        environ: Mapping[str, str] | None = None,
        pinned: Mapping[str, Trust] | None = None,
    ) -> None:
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        # Trust and proxies come from the process environment, as for requests, msal and
        # azure-core (tls.py); `pinned`: an origin's own CA bundle.
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.pinned = dict(pinned or {})
        self._session: Any = None

    def __repr__(self) -> str:
        return f"Http(timeout={self.timeout}, retries={self.retries}, backoff={self.backoff})"

    def _get_session(self) -> Any:
        if self._session is None:
            from . import tls

            retry_cls = _retry_class()
            kwargs: dict[str, Any] = {
                "total": self.retries,
                "connect": self.retries,
                "read": self.retries,
                "status": self.retries,
                "redirect": 0,
                "allowed_methods": IDEMPOTENT_METHODS,
                "status_forcelist": RETRY_STATUSES,
                "backoff_factor": self.backoff,
                "respect_retry_after_header": True,
                "raise_on_status": False,
                "raise_on_redirect": False,
            }
            import inspect

            params = inspect.signature(retry_cls.__init__).parameters
            if "backoff_jitter" in params:
                kwargs["backoff_jitter"] = self.backoff
            if "other" in params:  # TLS failures (a certificate will not become trusted): no retry
                kwargs["other"] = 0
            if "backoff_max" in params:
                kwargs["backoff_max"] = 8.0
            self._session = tls.session(self.environ, self.pinned, max_retries=retry_cls(**kwargs))
        return self._session

    def close(self) -> None:
        """Release pooled connections."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: Any = None,
        params: Mapping[str, str] | None = None,
        check: bool = True,
        suppress_sign_in: bool = True,
    ) -> HttpResponse:
        """Send one request with retries and safe redirects.

        With `check` (the default) a 5xx left after retries raises `ServiceError`;
        every other status is returned for the caller to interpret (see `refused`).
        `suppress_sign_in=False` leaves out `X-TFS-FedAuthRedirect: Suppress`.
        """
        import requests

        method = method.upper()
        log = get_logger()
        session = self._get_session()
        hdrs = dict(headers or {})
        if suppress_sign_in and not any(h.lower() == SUPPRESS_SIGN_IN[0].lower() for h in hdrs):
            hdrs[SUPPRESS_SIGN_IN[0]] = SUPPRESS_SIGN_IN[1]
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            label = f"{method} {_safe_url(current)}"
            log.debug("http: %s%s", label, _via(current, self.environ))
            try:
                response = session.request(
                    method,
                    current,
                    headers=hdrs,
                    json=json,
                    data=data,
                    params=params,
                    timeout=self.timeout,
                    allow_redirects=False,
                    auth=_no_netrc,
                )
            except requests.exceptions.Timeout:
                raise ServiceError(f"{label}: timed out after {self.timeout:g} s") from None
            except requests.exceptions.SSLError as exc:
                raise tls_failure(exc, label, current, self.environ, self.pinned) from None
            except requests.exceptions.RetryError:
                raise ServiceError(f"{label}: gave up after {self.retries} retries") from None
            except requests.exceptions.ProxyError as exc:
                raise ServiceError(f"{label}: proxy failed: {_reason(exc)}") from None
            except requests.exceptions.ConnectionError as exc:
                if _is_timeout(exc):
                    raise ServiceError(f"{label}: timed out after {self.timeout:g} s") from None
                raise ServiceError(f"{label}: connection failed: {_reason(exc)}") from None
            except requests.exceptions.RequestException as exc:
                raise ServiceError(f"{label}: request failed: {type(exc).__name__}") from None
            except OSError as exc:
                # requests raises a bare OSError for a missing CA bundle (REQUESTS_CA_BUNDLE)
                raise ServiceError(f"{label}: {_reason(exc)}") from None
            status = int(response.status_code)
            log.debug("http: %s -> %d", label, status)
            location = response.headers.get("Location")
            if status in _REDIRECT_STATUSES and location:
                target = urljoin(current, location)
                if is_sign_in_url(target):
                    log.debug("http: %s redirects to a sign-in page: refused, not followed", label)
                    return response  # type: ignore[no-any-return]
                old, new = _origin(current), _origin(target)
                if old[0] == "https" and new[0] != "https":
                    raise ServiceError(f"{label}: refused redirect from https to {new[0]}")
                if old != new:
                    dropped = [h for h in hdrs if h.lower() in _SECRET_HEADERS]
                    for name in dropped:
                        del hdrs[name]
                    if dropped:
                        log.debug("http: redirect leaves %s; credentials dropped", old[1])
                if status == 303 or (status in (301, 302) and method != "HEAD"):
                    method, json, data = ("HEAD" if method == "HEAD" else "GET"), None, None
                params = None  # already part of the Location the server built
                current = target
                response.close()
                continue
            if check and status >= 500:
                tried = _retries_done(response)
                suffix = f" after {tried} retries" if tried else ""
                raise ServiceError(f"{label}: HTTP {status}{suffix}")
            return response  # type: ignore[no-any-return]
        raise ServiceError(f"{method} {_safe_url(url)}: more than {MAX_REDIRECTS} redirects")

    def get(self, url: str, **kwargs: Any) -> HttpResponse:
        """GET with the shared policy."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> HttpResponse:
        """POST with the shared (conservative) policy."""
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> HttpResponse:
        """DELETE with the shared policy."""
        return self.request("DELETE", url, **kwargs)


def is_sign_in_url(url: str) -> bool:
    """A page where a person signs in: an Entra ID host, or an Azure DevOps `_signin` page."""
    from .microsoft import ENTRA_HOSTS

    host = origin(url).host
    segments = [s.lower() for s in urlsplit(url).path.split("/") if s]
    return host in ENTRA_HOSTS or host in _SIGN_IN_HOSTS or "_signin" in segments


def refused(response: HttpResponse) -> bool:
    """Did Azure DevOps refuse the credential? A 401; a 203 with a (non-JSON) sign-in page; or a
    redirect to a sign-in page. The first is what a request with `X-TFS-FedAuthRedirect:
    Suppress` gets, the other two what one without it gets (vsts-rest-api-specs issue 97)."""
    status = response.status_code
    if status == 401:
        return True
    if status == 203:
        return "json" not in response.headers.get("Content-Type", "").lower()
    if status in _REDIRECT_STATUSES:
        location = response.headers.get("Location")
        return bool(location) and is_sign_in_url(urljoin(response.url, location))
    return False


def _no_netrc(request: Any) -> Any:
    """A no-op auth hook: its presence stops requests from filling Authorization from ~/.netrc,
    which would replace the token we set (proxies from the environment still apply)."""
    return request


def _retries_done(response: Any) -> int:
    retries = getattr(getattr(response, "raw", None), "retries", None)
    history = getattr(retries, "history", None)
    return len(history) if history else 0


def _innermost(exc: BaseException) -> BaseException:
    """Unwrap requests/urllib3 wrappers (args[0], MaxRetryError.reason) to the root cause."""
    inner: BaseException = exc
    for _ in range(5):
        nxt = getattr(inner, "reason", None)
        if not isinstance(nxt, BaseException):
            args = getattr(inner, "args", ())
            nxt = args[0] if args and isinstance(args[0], BaseException) else None
        if nxt is None or nxt is inner:
            break
        inner = nxt
    return inner


def _is_timeout(exc: BaseException) -> bool:
    import urllib3.exceptions

    inner = _innermost(exc)
    if isinstance(inner, urllib3.exceptions.NewConnectionError):
        return False  # a subclass of ConnectTimeoutError in urllib3, but "refused" is not a timeout
    return isinstance(inner, (urllib3.exceptions.TimeoutError, TimeoutError))


def _via(url: str, environ: Mapping[str, str]) -> str:
    """` via proxy http://***@host:port` when a proxy carries `url` (for the debug log), else ""."""
    from .tls import hide_userinfo, proxy_for

    proxy = proxy_for(url, environ)
    return f" via proxy {hide_userinfo(proxy)}" if proxy else ""


def tls_failure(
    exc: BaseException,
    label: str,
    url: str,
    environ: Mapping[str, str],
    pinned: Mapping[str, Trust] | None = None,
) -> ServiceError:
    """The error for a TLS failure: an untrusted certificate is `UntrustedCertificate` (host,
    trust checked against, the fixes; the request is in the debug log); anything else its reason."""
    from . import tls

    if tls.is_untrusted(exc):
        get_logger().debug("http: %s: %s", label, _reason(exc))
        return UntrustedCertificate(tls.untrusted(origin(url).netloc, tls.trust_for(url, environ, pinned)))
    return ServiceError(f"{label}: TLS error: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    """A short, secret-free reason for a transport error: the root cause, minus pool noise."""
    inner = _innermost(exc)
    text = str(inner).splitlines()[0] if str(inner) else type(inner).__name__
    text = re.sub(r"<[^>]*object at 0x[0-9a-f]+>:?\s*", "", text)
    text = re.sub(r"HTTPS?Connection(?:Pool)?\([^)]*\):\s*", "", text)
    from .tls import hide_userinfo

    return redact(hide_userinfo(text))[:200] or type(inner).__name__


def basic_auth_header(username: str, secret: str) -> str:
    """`Basic base64(user:secret)`, the way Azure DevOps takes PATs and session tokens."""
    import base64

    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode("ascii")
