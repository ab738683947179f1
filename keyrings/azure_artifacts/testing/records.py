"""The fake's state as plain records: what it issued, what it was asked, what to break."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal, Optional

TokenKind = Literal[
    "access",
    "refresh",
    "id",
    "session",
    "pat",
    "federated",
    "device_code",
    "auth_code",
    "job",
]
AuthKind = Literal["anonymous", "entra", "session", "pat", "invalid"]


def fingerprint(secret: str) -> str:
    """A short, stable, non-reversible name for a secret, safe to log."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:12]


@dataclass
class IssuedToken:
    """Everything the fake remembers about one secret it handed out.

    Mutable on purpose: ``revoked`` flips when a test or a client revokes it.
    """

    secret: str
    kind: TokenKind
    tenant: str
    expires_at: float
    issued_at: float
    oid: str = ""
    client_id: str = ""
    org: Optional[str] = None
    scopes: tuple[str, ...] = ()
    authorization_id: str = ""
    display_name: str = ""
    username: str = ""
    revoked: bool = False
    requested_expires_at: Optional[float] = None  # the validTo asked for, before any cap

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.secret)

    def __repr__(self) -> str:  # the secret never reaches a log or an assertion message
        return (
            f"IssuedToken(kind={self.kind!r}, tenant={self.tenant!r}, org={self.org!r}, "
            f"scopes={self.scopes!r}, client_id={self.client_id!r}, revoked={self.revoked!r}, "
            f"fingerprint={self.fingerprint!r})"
        )


@dataclass(frozen=True)
class RequestRecord:
    """One request as the fake saw it; secrets appear only as fingerprints."""

    method: str
    path: str
    query: dict[str, str]
    route: str
    status: int
    org: Optional[str] = None
    auth_kind: AuthKind = "anonymous"
    scopes: tuple[str, ...] = ()
    grant_type: Optional[str] = None
    client_id: Optional[str] = None
    secret_fingerprint: Optional[str] = None
    fault: bool = False


@dataclass
class Fault:
    """A scripted failure for the next ``times`` requests to ``route``."""

    route: str
    times: int
    status: Optional[int] = None
    retry_after: Optional[int] = None
    hang: Optional[float] = None
    body: Optional[bytes] = None
    content_type: Optional[str] = None


@dataclass
class App:
    """A client registration: confidential (secret, certificate, federated credential) or public
    (``redirect_uris``; public client flows allowed)."""

    client_id: str
    secret: Optional[str] = None
    certificate_pem: Optional[bytes] = None
    federated_subject: Optional[str] = None
    tenant: Optional[str] = None
    public: bool = False
    redirect_uris: tuple[str, ...] = ()
    # The fake `az`/`azd` stand for a CLI a *user* signed in to: their tokens are user tokens.
    signed_in_user: Optional[str] = None
    federated_issuer: Optional[str] = None


@dataclass
class DeviceUser:
    """How the scripted user answers the next device-code sign-ins."""

    approve_after_polls: int = 1
    deny: bool = False
    username: str = "user@contoso.com"


@dataclass
class PendingDevice:
    """A device code waiting for the scripted user."""

    client_id: str
    tenant: str
    scopes: tuple[str, ...]
    user: DeviceUser
    polls: int = 0


@dataclass
class Package:
    """One file in a feed."""

    name: str
    version: str
    filename: str
    data: bytes
    sha256: str


# The feed roles, least to most ("Manage permissions",
# https://learn.microsoft.com/azure/devops/artifacts/feeds/feed-permissions): Feed Reader lists
# and downloads, Feed and Upstream Reader (Collaborator) also saves from upstreams, Feed Publisher
# (Contributor) publishes, Feed Owner administers. "none": not granted on the feed at all.
FEED_ROLES = ("none", "reader", "collaborator", "contributor", "owner")


@dataclass
class Feed:
    """A feed: its names, ids and files."""

    org: str
    name: str
    project: Optional[str]
    feed_id: str
    project_id: Optional[str]
    files: list[Package] = field(default_factory=list)
    anonymous_read: bool = False  # a public project's feed: anonymous reads succeed, no challenge
    # Feed permissions by identity (lower-case username, app client id or object id): one of
    # FEED_ROLES. Anyone not listed has `default_role` (the project's contributors are the feed's).
    roles: dict[str, str] = field(default_factory=dict)
    default_role: str = "contributor"


@dataclass
class Org:
    """An Azure DevOps organization and the Entra tenant that backs it.

    ``kind``: ``entra`` (an Entra ID tenant backs it), ``personal`` (Microsoft accounts: a bare
    ``Bearer`` challenge, the all-zero tenant header) or ``server`` (an Azure DevOps Server collection: no
    Entra ID at all, PATs over Basic only). ``challenge`` False models a feed host whose
    anonymous 401 carries no usable challenge (a proxy that strips the headers).
    """

    name: str
    tenant: str
    org_id: str
    kind: str = "entra"
    challenge: bool = True
    # Organization policy "Restrict personal access token lifespan" (seconds); None: no policy.
    pat_max_lifetime: Optional[int] = None
    # The people added to the organization (lower-case usernames); None: every user of its tenant.
    members: Optional[frozenset[str]] = None
