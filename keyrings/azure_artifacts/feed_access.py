"""Why a feed answered HTTP 403 (for `doctor`): the token's scopes, or the identity's feed role.

Azure DevOps says which in the answer's `typeKey`: `FeedNeedsPermissionsException` is the feed
role ("lacks permission ... 'ReadPackages'", NuGet/Home issue 9259); anything else with a token
whose scopes do not cover packaging is the scopes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .pat.policy import READ_SCOPE, WRITE_SCOPES, can_upload

if TYPE_CHECKING:
    from .http import HttpResponse
    from .secret import Secret

ROLE_REFUSAL = "FeedNeedsPermissionsException"
READ_SCOPES = WRITE_SCOPES | {READ_SCOPE}


def type_key(response: HttpResponse) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    key = data.get("typeKey") if isinstance(data, dict) else None
    return key if isinstance(key, str) else ""


def scope_problem(scopes: Sequence[str], upload: bool) -> str:
    """What these scopes cannot do on a feed ("" when they can)."""
    if not READ_SCOPES.intersection(scopes):
        return "cannot read packages (no vso.packaging scope)"
    if upload and not can_upload(scopes):
        return "cannot upload packages (vso.packaging reads only; publishing needs vso.packaging_write)"
    return ""


def forbidden(
    response: HttpResponse,
    secret: Secret,
    configured_scopes: Sequence[str],
    upload: bool,
    who: str,
    name: str,
    feed: str,
) -> tuple[str, str]:
    """(what is wrong, the fix) for a 403 from the feed."""
    role = "Feed Publisher (Contributor)" if upload else "Feed Reader"
    role_fix = f"a feed owner gives {name} the {role} role (or higher): Feed settings > Permissions"
    if type_key(response) != ROLE_REFUSAL:
        known = tuple(secret.scopes) or tuple(configured_scopes)
        problem = scope_problem(known, upload) if known else ""
        if problem:
            source = "the token's scopes" if secret.scopes else "the configured scopes"
            return (
                f"HTTP 403: {source} ({' '.join(known)}) {problem}",
                "set scopes = vso.packaging (vso.packaging_write to publish) for this feed, then "
                "`azure-artifacts-keyring logout URL` to drop the old secret",
            )
        if secret.kind == "static":
            packaging = "Packaging (Read & write)" if upload else "Packaging (Read)"
            return (
                f"HTTP 403: the PAT {who} was refused by feed {feed}: its scopes may not include packaging",
                f"create the PAT with the {packaging} scope (or give {name} the {role} role)",
            )
    return f"HTTP 403: {who} may not read feed {feed}", role_fix
