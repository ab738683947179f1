"""The configuration reference (option, values, default, what it does), generated from the model.

Regenerate the docs copy with::

    python -m keyrings.azure_artifacts.config.reference > docs/configuration.md

Option names and the allowed choices come from `options.Options` and `values`; the
defaults from `settings.Settings`. Only the prose lives here, and a test checks that it
covers exactly `OPTION_NAMES`, so a new option cannot be left out of the docs.
"""

from __future__ import annotations

from typing import Any

from ..credentials.registry import ALL_NAMES
from . import values
from .options import HOST_ONLY_OPTIONS, OPTION_NAMES
from .settings import Settings

START = "<!-- reference:start -->"
END = "<!-- reference:end -->"
REGENERATE = "python -m keyrings.azure_artifacts.config.reference > docs/configuration.md"


def _codes(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{name}`" for name in names)


DURATION = "a duration: `90d`, `12h`, `45m`, `1d12h`, or ISO 8601 `P90D` (at most 366 days)"

# option -> (values, what it does); defaults come from settings.Settings unless overridden below.
DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "auth": (
        _codes(values.AUTH_MODES),
        "What the tool is given: `session` exchanges the Entra ID token for a short-lived Azure DevOps "
        "session token; `bearer` hands over the Entra ID access token itself; `pat` creates a personal "
        "access token, stores it in the OS keyring and reuses it until `pat_renew_before`.",
    ),
    "credential": (
        f"`auto`, or one name or a comma list tried in order: {_codes(ALL_NAMES)}",
        "How an Entra ID token (or a static secret) is obtained. `auto` tries static → Azure Pipelines → "
        "environment → workload identity → managed identity (only when its variables are set) → "
        "the cache of an earlier sign-in → Azure CLI (skipped when it fails) → interactive sign-in "
        "when allowed.",
    ),
    "tenant": (
        "tenant GUID or domain name",
        "Pins the Entra ID tenant to sign in to; no discovery request is made. Set it for guest "
        "accounts and for organizations whose tenant differs from your home tenant.",
    ),
    "authority_host": (
        "https URL",
        "The Entra ID authority: sovereign clouds (`https://login.microsoftonline.us`), test servers.",
    ),
    "client_id": (
        "GUID",
        "The user-assigned managed identity, the workload identity / service principal app, or the "
        "public client used for user sign-in.",
    ),
    "scopes": (
        "Azure DevOps scopes (`vso.packaging`, `vso.packaging_write`, ...), space or comma separated",
        "Scopes requested for session tokens and PATs.",
    ),
    "pat_duration": (DURATION, "Lifetime of a PAT created with `auth = pat`."),
    "pat_renew_before": (DURATION, "A stored PAT is replaced this long before it expires."),
    "session_duration": (DURATION, "Lifetime requested for session tokens."),
    "username": (
        "one word without `:`",
        "The username handed back with the secret (Azure DevOps ignores it; some tools need one).",
    ),
    "interactive": (
        _codes(values.INTERACTIVE_MODES),
        "Whether sign-in may prompt (browser or device code). `auto`: only when a terminal is "
        "attached and `CI` is not set.",
    ),
    "token_env": (
        "environment variable name",
        "The environment variable `credential = static` reads a PAT or token from.",
    ),
    "token_file": (
        "file path",
        "A file holding only the PAT or token for `credential = static`; it wins over `token_env`. Keep it `chmod 600`.",
    ),
    "vssps_url": (
        "https URL; `{org}` is replaced by the organization, percent-encoded in the path; in the host only "
        "as the first label (`https://{org}.vssps.example.com`)",
        "Base URL of the token service that issues session tokens and PATs.",
    ),
    "timeout": ("seconds, more than 0 and at most 600", "Timeout of every network call."),
    "ca_bundle": (
        "file path (PEM bundle) or directory of hashed certificates",
        "The CAs that verify the feed host's certificate (Azure DevOps Server with an internal CA), "
        "instead of the OS trust store or `REQUESTS_CA_BUNDLE`; other hosts keep those.",
    ),
    "path_prefix": (
        "URL path starting with `/` (like `/tfs`); only in `host` sections",
        "Part of the path before the organization (collection) on Azure DevOps Server.",
    ),
    "allow_http": (
        "`true` or `false`; only in `host` sections",
        "Serve plain-http URLs of this host (an on-premises server without TLS); only a static token "
        "(`token_env`, `token_file`) is sent over http, never an Entra token, session token or PAT.",
    ),
}

DEFAULT_TEXT: dict[str, str] = {
    "tenant": "discovered from the feed's 401 challenge, cached per organization",
    "client_id": "per credential",
    "scopes": "`vso.packaging`; `vso.packaging_write` for upload URLs",
    "token_file": "none",
    "ca_bundle": "none: the OS trust store, or `REQUESTS_CA_BUNDLE` / `SSL_CERT_FILE` when set",
    "vssps_url": (
        "the 401's `X-VSS-AuthorizationEndpoint`, else from the feed host "
        "(`https://vssps.dev.azure.com/{org}`; on a `host` section `https://{host}{path_prefix}/{org}`)"
    ),
    "path_prefix": "none",
}


def default_text(name: str) -> str:
    if name in DEFAULT_TEXT:
        return DEFAULT_TEXT[name]
    from .._text import duration_text

    value: Any = getattr(Settings(), name)
    if name.endswith("_duration") or name.endswith("_before"):
        return f"`{duration_text(int(value))}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return _codes(value)
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table() -> str:
    """The Markdown table, one row per option in the model's order."""
    rows = ["| option | values | default | what it does |", "|---|---|---|---|"]
    for name in OPTION_NAMES:
        allowed, what = DESCRIPTIONS[name]
        rows.append(f"| `{name}` | {_cell(allowed)} | {_cell(default_text(name))} | {_cell(what)} |")
    return "\n".join(rows) + "\n"


def block() -> str:
    """The generated text between the markers (markers included)."""
    host_only = _codes(HOST_ONLY_OPTIONS)
    return (
        f"{START}\n"
        f"<!-- generated by `{REGENERATE}`; do not edit by hand -->\n\n"
        f"{table()}\n"
        f"Every option may appear in any `[artifacts ...]` section except {host_only}, which are "
        "only allowed in a section with a `host` qualifier.\n"
        f"{END}\n"
    )


def document() -> str:
    """docs/configuration.md as a whole."""
    return (
        "# Configuration reference\n\n"
        "Options of `[artifacts ...]` sections in `keyringrc.cfg` (or the file named by "
        "`KEYRINGS_AZURE_ARTIFACTS_CONFIG`). How sections match and layer is described in [Configuration](configuration-guide.md); "
        "`azure-artifacts-keyring explain URL` shows the value each option takes for a URL and where "
        "it came from, `azure-artifacts-keyring check` validates a file.\n\n"
        f"{block()}"
    )


def between_markers(text: str) -> str:
    """The marked block of a document (markers included); ValueError when the markers are missing."""
    start = text.find(START)
    end = text.find(END, start + 1)
    if start < 0 or end < 0:
        raise ValueError(f"no {START} ... {END} block")
    return text[start : end + len(END)] + "\n"


if __name__ == "__main__":
    print(document(), end="")
