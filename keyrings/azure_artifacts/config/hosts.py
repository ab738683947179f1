"""What `check` says about `host` sections: which hosts each matches, and what its host gets
(pure, stdlib only). The rules themselves live in `urls.host_matches` and
`settings.entra_less`; this only words them for a person."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..urls import host_matches, parse_host_pattern
from .files import problem

if TYPE_CHECKING:
    from .resolve import ValidConfig

ENTRA_OPTIONS = ("tenant", "authority_host")


def host_messages(valid: ValidConfig) -> tuple[list[str], list[str]]:
    """(warnings, notes) for every `host` section."""
    root = valid.options.get("artifacts") or {}
    by_host: dict[tuple[str, Any], list[Any]] = {}
    for section in valid.raw.sections:
        if section.valid and "host" in section.qualifiers:
            by_host.setdefault(parse_host_pattern(section.qualifiers["host"]), []).append(section)
    warnings: list[str] = []
    notes: list[str] = []
    for (host, port), sections in by_host.items():
        path = valid.raw.path
        first = sections[0].name
        # Every host section that also applies to this host: `*.example.com` to `a.example.com`,
        # a port-less one to the same host with a port.
        options = [
            valid.options[s.name]
            for (other, other_port), group in by_host.items()
            if (other == host or (not host.startswith("*.") and host_matches(host, other)))
            and other_port in (None, port)
            for s in group
        ]
        if host.startswith("*."):
            form = f"matches any one-label subdomain of {host[2:]} (not {host[2:]} itself)"
        elif _is_address(host):
            form = f"matches {host} exactly"
        else:
            form = f'matches {host} exactly (subdomains only with host="*.{host}")'

        notes.append(problem(path, first, "host", form))
        entra = any(own.get(name) is not None for own in options for name in ENTRA_OPTIONS)
        static = any(
            own.get(name) or root.get(name) for own in options for name in ("token_env", "token_file")
        )
        if not entra:
            others = [name for name in ENTRA_OPTIONS if root.get(name) is not None]
            also = f" ([artifacts] sets {' and '.join(others)}, which does not count here)" if others else ""
            notes.append(
                problem(path, first, "host", f"no tenant or authority_host in a host section for {host}, so "
                        f"no Entra token is ever sent there{also}: its credential is a PAT (token_env / token_file)")
            )  # fmt: skip
            if not static:
                warnings.append(
                    problem(path, first, "host", "no token_env or token_file either: only AZURE_DEVOPS_EXT_PAT will be used")
                )  # fmt: skip
        if entra and any(own.get("allow_http") for own in options):
            warnings.append(
                problem(path, first, "allow_http", "over http only a static token (token_env / token_file) is "
                        "sent: Entra sign-in, session tokens and PATs work only for this host's https:// URLs")
            )  # fmt: skip
    return warnings, notes


def _is_address(host: str) -> bool:
    """An IP address has no subdomains to offer."""
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
