"""Pure parsers for option values (stdlib only): the option table (`table`) names which option
uses which; URL recognition uses some directly."""

from __future__ import annotations

import re
from typing import Optional

from .._text import is_guid
from .sections import did_you_mean

AUTH_MODES = ("session", "bearer", "pat")
INTERACTIVE_MODES = ("auto", "never", "always")

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.IGNORECASE)
_SCOPE = re.compile(r"^(vso\.[a-z_]+|app_token)$")
_SHORT_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# https://host[:port][/path]: a host name (`{org}` may stand in it), an IPv4 or a bracketed IPv6
# address; no userinfo, query or fragment.
_URL = re.compile(r"^https://(?:[a-z0-9._{}-]+|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?(/[^\s?#]*)?$", re.IGNORECASE)
_MAX_DURATION = 366 * 86400


def parse_duration(text: str) -> int:
    """Seconds in `90d`, `12h`, `45m`, `1d12h`, `30s` or ISO 8601 `P90D`/`PT12H`."""
    value = text.strip().lower()
    match = _SHORT_DURATION.match(value)
    if value and match and any(match.groups()):
        d, h, m, s = (int(g or 0) for g in match.groups())
        seconds = d * 86400 + h * 3600 + m * 60 + s
    elif value.startswith("p"):
        seconds = _iso_seconds(text)
    else:
        raise ValueError(f"'{text}' is not a duration: write 90d, 12h, 45m or P90D")
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    if seconds > _MAX_DURATION:
        raise ValueError("must be at most 366 days")
    return seconds


def choice(value: object, choices: tuple[str, ...]) -> str:
    text = str(value).strip().lower()
    if text not in choices:
        raise ValueError(f"'{value}' is not one of {', '.join(choices)}")
    return text


def credential(value: object) -> tuple[str, ...]:
    names = tuple(n.strip().lower() for n in str(value).split(",") if n.strip())
    if not names:
        raise ValueError("empty list")
    if names == ("auto",):
        return names
    from ..credentials.registry import ALL_NAMES  # the flow modules load on the cold path only

    for name in names:
        if name == "auto":
            raise ValueError("'auto' cannot be combined with other credentials")
        if name not in ALL_NAMES:
            raise ValueError(f"unknown credential '{name}'{did_you_mean(name, list(ALL_NAMES))}")
    if len(set(names)) != len(names):
        raise ValueError("a credential is listed twice")
    return names


def tenant(value: object) -> str:
    text = str(value).strip()
    if is_guid(text) or _DOMAIN.match(text):
        return text.lower()
    raise ValueError(f"'{text}' is not a tenant GUID or domain name")


def guid(value: object) -> str:
    text = str(value).strip()
    if not is_guid(text):
        raise ValueError(f"'{text}' is not a GUID")
    return text.lower()


def https_url(value: object) -> str:
    text = str(value).strip()
    if not _URL.match(text):
        raise ValueError(f"'{text}' is not an https URL")
    return text.rstrip("/")


# `{org}` in a token service's host: only as its whole leftmost label in front of a domain with
# at least two labels (`https://{org}.vssps.example.com`), so an organization name can never
# become, or end, the host a token is sent to. Anywhere else it belongs in the path.
_ORG_HOST = re.compile(r"^\{org\}(\.[a-z0-9-]+){2,}(:[0-9]{1,5})?$", re.IGNORECASE)


def vssps_url(value: object) -> str:
    text = https_url(value)
    host = text[len("https://") :].split("/", 1)[0]
    if ("{org}" in host and not _ORG_HOST.match(host)) or "{" in host.replace("{org}", ""):
        raise ValueError(
            f"'{text}': {{org}} may only be the first label of the host "
            "(https://{org}.vssps.example.com) or stand in the path (https://host/{org})"
        )
    return text


def scopes(value: object) -> tuple[str, ...]:
    names = tuple(s for s in re.split(r"[\s,]+", str(value).strip()) if s)
    if not names:
        raise ValueError("empty list")
    for name in names:
        if not _SCOPE.match(name):
            raise ValueError(f"'{name}' is not an Azure DevOps scope (like vso.packaging)")
        if name not in _PACKAGING_SCOPES:
            import difflib  # only for an unusual scope

            close = difflib.get_close_matches(name, _PACKAGING_SCOPES, n=1, cutoff=0.8)
            if close:
                raise ValueError(f"'{name}' is not an Azure DevOps scope (did you mean '{close[0]}'?)")
    return tuple(dict.fromkeys(names))


# The scopes a feed's credential uses (Microsoft Learn, "Azure DevOps scopes"); another `vso.`
# scope is passed on as written, a near miss of these is a typo.
_PACKAGING_SCOPES = (
    "vso.packaging", "vso.packaging_write", "vso.packaging_manage", "vso.drop", "vso.drop_write", "vso.drop_manage",
)  # fmt: skip


def duration(value: object) -> int:
    return parse_duration(str(value))


def username(value: object) -> str:
    text = str(value).strip()
    if not text or any(c.isspace() or c == ":" for c in text):
        raise ValueError("must be one word without ':'")
    return text


def env_name(value: object) -> str:
    text = str(value).strip()
    if not _ENV_NAME.match(text):
        raise ValueError(f"'{text}' is not an environment variable name")
    return text


def path(value: object) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError("empty path")
    return text


def timeout(value: object) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError(f"'{value}' is not a number of seconds") from None
    if not 0 < number <= 600:
        raise ValueError("must be more than 0 and at most 600 seconds")
    return number


def path_prefix(value: object) -> str:
    text = str(value).strip().rstrip("/")
    if text and not text.startswith("/"):
        raise ValueError("must start with '/' (like /tfs)")
    if any(c in text for c in "?#@ "):
        raise ValueError(f"'{text}' is not a URL path")
    return text


def boolean(value: object) -> bool:
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise ValueError(f"'{value}' is not true or false")


def auth_mode(value: object) -> str:
    return choice(value, AUTH_MODES)


def interactive_mode(value: object) -> str:
    return choice(value, INTERACTIVE_MODES)


# --- the compatibility variables' own spellings (the option table names which one reads which) ---


def bearer_flag(text: str) -> str:
    """KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN: true means `auth = bearer`, false `auth = pat`."""
    return "bearer" if boolean(text) else "pat"


def whole_days(text: str) -> int:
    """AZURE_DEVOPS_PAT_DURATION: a whole number of days."""
    if not text.isdigit() or not 0 < int(text) <= 366:
        raise ValueError(f"'{text}' is not a whole number of days between 1 and 366")
    return int(text) * 86400


def noninteractive_flag(text: str) -> Optional[str]:
    """ARTIFACTS_KEYRING_NONINTERACTIVE_MODE: true means `interactive = never`; false leaves it unset."""
    return "never" if boolean(text) else None


def authority_host(text: str) -> str:
    """AZURE_AUTHORITY_HOST: azure-identity reads a scheme-less host (its AzureAuthorityHosts
    constants) as https."""
    return https_url(text if "://" in text else f"https://{text}")


def _iso_seconds(text: str) -> int:
    """ISO 8601 durations are parsed by pydantic, imported only when one is written."""
    from datetime import timedelta

    from pydantic import TypeAdapter, ValidationError

    try:
        return int(TypeAdapter(timedelta).validate_python(text.strip().upper()).total_seconds())
    except ValidationError:
        raise ValueError(f"'{text}' is not an ISO 8601 duration") from None
