"""The option table: every option a section may set, described once (stdlib only).

Each row is an `Option` in the body of `OptionTable`: its name (the attribute), parser,
default, the reference's prose, whether only `host` sections may set it, and the
compatibility variables that stand in for it. Everything else is derived from the rows:
the quick parsers (`PARSERS`), the pydantic model (`options.Options`), `Settings`' typed
attributes and defaults (`settings.Settings` inherits this class), and the configuration
reference (`reference`). Adding an option is one row here (and a parser in `values` when its
kind of value is new), then regenerating docs/configuration.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, Generic, Optional, TypeVar, overload

from ..credentials.registry import ALL_NAMES
from ..microsoft import PUBLIC_AUTHORITY_HOST
from . import values

if TYPE_CHECKING:
    from ..urls import FeedRef

T = TypeVar("T")


def codes(names: tuple[str, ...]) -> str:
    """`a`, `b`, `c`: names as Markdown code."""
    return ", ".join(f"`{name}`" for name in names)


class Option(Generic[T]):
    """One row of the table. On a `Settings` instance the attribute reads the option's value
    (typed `T` for mypy); on the class it is this row."""

    name: str

    def __init__(
        self,
        parse: Callable[[object], T],
        default: T,
        *,
        values: str,
        what: str,
        default_text: str = "",
        host_only: bool = False,
        from_url: Optional[Callable[[FeedRef], T]] = None,
        compat: tuple[tuple[str, Callable[[str], Optional[T]]], ...] = (),
    ) -> None:
        self.parse = parse
        self.default = default
        self.values = values  # the reference's "values" column
        self.what = what  # the reference's "what it does" column
        self.default_text = default_text  # the reference's "default" column, when not `default` itself
        self.host_only = host_only  # only a section with a `host` qualifier may set it
        self.from_url = from_url  # the default for one URL, when it depends on the URL
        self.compat = compat  # (environment variable, its parser): below every section; None = unset

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: Any) -> Option[T]: ...
    @overload
    def __get__(self, instance: object, owner: Any) -> T: ...
    def __get__(self, instance: object, owner: Any) -> Any:
        # Settings keeps its values in the instance's __dict__, which wins over this (a non-data
        # descriptor): this runs only for the class itself.
        if instance is None:
            return self
        raise AttributeError(self.name)

    def default_for(self, ref: Optional[FeedRef]) -> T:
        """The built-in default, for one URL when it depends on it."""
        return self.from_url(ref) if self.from_url is not None and ref is not None else self.default

    def __repr__(self) -> str:
        return f"Option({self.name!r})"


DURATION = "a duration: `90d`, `12h`, `45m`, `1d12h`, or ISO 8601 `P90D` (at most 366 days)"


class OptionTable:
    """The rows, in the order `explain`, the model and the reference list them."""

    auth = Option(
        values.auth_mode,
        "session",
        values=codes(values.AUTH_MODES),
        what="What the tool is given: `session` exchanges the Entra ID token for a short-lived Azure DevOps "
        "session token; `bearer` hands over the Entra ID access token itself; `pat` creates a personal "
        "access token, stores it in the OS keyring and reuses it until `pat_renew_before`.",
        compat=(("KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN", values.bearer_flag),),
    )
    credential = Option[tuple[str, ...]](
        values.credential,
        ("auto",),
        values=f"`auto`, or one name or a comma list tried in order: {codes(ALL_NAMES)}",
        what="How an Entra ID token (or a static secret) is obtained. `auto` tries static → Azure Pipelines → "
        "environment → workload identity → managed identity (only when its variables are set) → "
        "the cache of an earlier sign-in → Azure CLI (skipped when it fails) → interactive sign-in "
        "when allowed.",
    )
    tenant = Option(
        values.tenant,
        None,
        values="tenant GUID or domain name",
        what="Pins the Entra ID tenant to sign in to; no discovery request is made. Set it for guest "
        "accounts and for organizations whose tenant differs from your home tenant.",
        default_text="discovered from the feed's 401 challenge, cached per organization",
    )
    authority_host = Option(
        values.https_url,
        PUBLIC_AUTHORITY_HOST,
        values="https URL",
        what="The Entra ID authority: sovereign clouds (`https://login.microsoftonline.us`), test servers.",
        compat=(("AZURE_AUTHORITY_HOST", values.authority_host),),
    )
    client_id = Option(
        values.guid,
        None,
        values="GUID",
        what="The user-assigned managed identity, the workload identity / service principal app, or the "
        "public client used for user sign-in.",
        default_text="per credential",
    )
    scopes = Option[tuple[str, ...]](
        values.scopes,
        ("vso.packaging",),
        values="Azure DevOps scopes (`vso.packaging`, `vso.packaging_write`, ...), space or comma separated",
        what="Scopes requested for session tokens and PATs.",
        default_text="`vso.packaging`; `vso.packaging_write` for upload URLs",
        from_url=lambda ref: ("vso.packaging_write",) if ref.upload else ("vso.packaging",),
        compat=(("AZURE_DEVOPS_PAT_SCOPE", values.scopes),),
    )
    pat_duration = Option(
        values.duration,
        30 * 86400,
        values=DURATION,
        what="Lifetime of a PAT created with `auth = pat`.",
        compat=(("AZURE_DEVOPS_PAT_DURATION", values.whole_days),),
    )
    pat_renew_before = Option(
        values.duration,
        3 * 86400,
        values=DURATION,
        what="A stored PAT is replaced this long before it expires.",
    )
    session_duration = Option(
        values.duration,
        4 * 3600,
        values=DURATION,
        what="Lifetime requested for session tokens; at most 24 hours are asked for (self-describing session tokens live no longer).",
    )
    username = Option(
        values.username,
        "VssSessionToken",
        values="one word without `:`",
        what="The username handed back with the secret (Azure DevOps ignores it; some tools need one).",
    )
    interactive = Option(
        values.interactive_mode,
        "auto",
        values=codes(values.INTERACTIVE_MODES),
        what="Whether sign-in may prompt (browser or device code). `auto`: only when a terminal is "
        "attached and `CI` is not set.",
        compat=(("ARTIFACTS_KEYRING_NONINTERACTIVE_MODE", values.noninteractive_flag),),
    )
    token_env = Option(
        values.env_name,
        "AZURE_DEVOPS_EXT_PAT",
        values="environment variable name",
        what="The environment variable `credential = static` reads a PAT or token from.",
    )
    token_file = Option(
        values.path,
        None,
        values="file path",
        what="A file holding only the PAT or token for `credential = static`; it wins over `token_env`. "
        "Keep it `chmod 600`.",
        default_text="none",
    )
    vssps_url = Option(
        values.vssps_url,
        "",
        values="https URL; `{org}` is replaced by the organization, percent-encoded in the path; in the host "
        "only as the first label (`https://{org}.vssps.example.com`)",
        what="Base URL of the token service that issues session tokens and PATs.",
        default_text="the 401's `X-VSS-AuthorizationEndpoint`, else from the feed host "
        "(`https://vssps.dev.azure.com/{org}`; on a `host` section `https://{host}{path_prefix}/{org}`)",
        from_url=lambda ref: ref.default_vssps_url(),
    )
    timeout = Option(
        values.timeout,
        20.0,
        values="seconds, more than 0 and at most 600",
        what="Timeout of every network call.",
    )
    ca_bundle = Option(
        values.path,
        None,
        values="file path (PEM bundle) or directory of hashed certificates",
        what="The CAs that verify the feed host's certificate (Azure DevOps Server with an internal CA), "
        "instead of the OS trust store or `REQUESTS_CA_BUNDLE`; other hosts keep those.",
        default_text="none: the OS trust store, or `REQUESTS_CA_BUNDLE` / `SSL_CERT_FILE` when set",
    )
    path_prefix = Option(
        values.path_prefix,
        "",
        values="URL path starting with `/` (like `/tfs`); only in `host` sections",
        what="Part of the path before the organization (collection) on Azure DevOps Server.",
        default_text="none",
        host_only=True,
        from_url=lambda ref: ref.path_prefix,
    )
    allow_http = Option(
        values.boolean,
        False,
        values="`true` or `false`; only in `host` sections",
        what="Serve plain-http URLs of this host (an on-premises server without TLS); only a static token "
        "(`token_env`, `token_file`) is sent over http, never an Entra token, session token or PAT.",
        host_only=True,
    )


# --- derived from the rows -------------------------------------------------------------------

ROWS: tuple[Option[Any], ...] = tuple(row for row in vars(OptionTable).values() if isinstance(row, Option))
OPTION_NAMES: tuple[str, ...] = tuple(row.name for row in ROWS)
BY_NAME: Mapping[str, Option[Any]] = {row.name: row for row in ROWS}
# option -> its parser: the quick pass for a file with nothing wrong (resolve.validate) and the
# pydantic model (options.Options) run the same functions.
PARSERS: Mapping[str, Callable[[object], Any]] = {row.name: row.parse for row in ROWS}
HOST_ONLY_OPTIONS: tuple[str, ...] = tuple(row.name for row in ROWS if row.host_only)
DURATION_OPTIONS: tuple[str, ...] = tuple(row.name for row in ROWS if row.parse is values.duration)
DEFAULTS: Mapping[str, Any] = {row.name: row.default for row in ROWS}


def env_options(environ: Mapping[str, str]) -> tuple[dict[str, tuple[Any, str]], list[str]]:
    """The compatibility variables that are set (option defaults below every section):
    option -> (value, `env:VAR`), and their problems."""
    found: dict[str, tuple[Any, str]] = {}
    problems: list[str] = []
    for row in ROWS:
        for variable, parse in row.compat:
            text = environ.get(variable, "").strip()
            if not text:
                continue
            try:
                value = parse(text)
            except ValueError as exc:
                problems.append(f"env:{variable}: {exc}")
                continue
            if value is not None:
                found[row.name] = (value, f"env:{variable}")
    return found, problems
