"""`auth = pat`: the PAT lifecycle. A stored PAT is reused while it outlives `pat_renew_before`,
checked once per process against the token service, rotated (new one, then the old one
revoked) inside the renewal window, and replaced when refused or expired. New PATs are made
under the key's lock, so concurrent processes create one between them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from .._log import fingerprint, get_logger, one_line
from ..errors import AuthenticationFailed, AzureArtifactsError
from ..modes.base import LOCK_TIMEOUT, Held, secret_key, settled_key
from ..secret import Secret
from .policy import Action, StoredPat, keeps_current

if TYPE_CHECKING:
    from ..exchange import IssuedToken
    from ..http import HttpResponse
    from ..signin import Grant, SignIn
    from ..urls import FeedRef

# Stored PATs the token service accepted in this process: asked once, not on every lookup.
_accepted: set[str] = set()


def app_only_message(flow: str) -> str:
    return (
        f"auth = pat cannot work with the {flow} credential: Azure DevOps does not let service "
        "principals or managed identities create PATs; use auth = session (or bearer) for this feed"
    )


class PatMode:
    kind = "pat"

    def key(self, signin: SignIn) -> str:
        """One PAT per feed: the secret-cache key's parts plus project and feed."""
        ref = signin.resolution.ref
        return secret_key(signin, project=(ref.project or "").lower(), feed=(ref.feed or "").lower())

    def peek(self, signin: SignIn) -> Optional[Held]:
        """The stored PAT a lookup here would start from (whether it is still accepted is asked
        only by `obtain`)."""
        found = signin.ctx.pat_store().get(self.key(signin))
        return None if found is None else Held(self.kind, found.expires_at)

    def state(self, signin: SignIn, key: str) -> tuple[Optional[StoredPat], Action, bool]:
        """The stored PAT, what the policy says to do with it, and whether the token service
        refused it the last time it was asked."""
        from .policy import decide, pat_scopes

        settings, ref = signin.resolution.settings, signin.resolution.ref
        store = signin.ctx.pat_store()
        stored = store.get(key)
        refused = stored is not None and store.refused(key)
        wanted = pat_scopes(settings.scopes, ref.upload)
        action = decide(stored, signin.ctx.now(), settings.pat_renew_before, wanted, ref.upload, refused)
        get_logger().debug(
            "pat: %s (%s)", action.value, f"expires_at={stored.expires_at}" if stored else "none stored"
        )
        return stored, action, refused

    def obtain(self, signin: SignIn, username: Optional[str]) -> Secret:
        from ..config.settings import cannot_work

        reason = cannot_work(signin.resolution.settings)
        if reason:
            raise AuthenticationFailed(reason)
        log = get_logger()
        ctx, ref = signin.ctx, signin.resolution.ref
        key = self.key(signin)
        stored, action, _refused = self.state(signin, key)
        if stored is not None and action is Action.REUSE:
            if self.accepted(signin, stored):
                log.debug("using stored PAT %s", fingerprint(stored.secret))
                return self._secret(stored, username)
            log.debug("pat: the stored PAT for '%s' was refused (revoked or expired)", ref.org)
            ctx.pat_store().mark_refused(key)
        with ctx.secret_cache().lock(key, timeout=LOCK_TIMEOUT):
            stored, action, refused = self.state(signin, key)  # another process may have made one
            if stored is not None and action is Action.REUSE:
                return self._secret(stored, username)
            try:
                created = self.create(signin, key, stored, action)
                if refused:
                    log.warning(
                        "the stored PAT for '%s' was refused (revoked or expired): replaced it with a "
                        "new one", ref.org
                    )  # fmt: skip
                return self._secret(created, username)
            except AzureArtifactsError as exc:
                if stored is None or not keeps_current(action):
                    if refused and action is Action.REPLACE:
                        raise AuthenticationFailed(
                            f"the stored PAT for '{ref.org}' was refused and no new one could be made: "
                            f"{one_line(exc)}"
                        ) from None
                    raise
                log.warning(
                    "could not rotate the PAT for '%s' (%s); using the current one until it expires",
                    ref.org,
                    one_line(exc),
                )
                return self._secret(stored, username)

    def _secret(self, pat: StoredPat, username: Optional[str]) -> Secret:
        return Secret(username or pat.username, pat.secret, "pat", pat.expires_at, scopes=pat.scopes)

    def accepted(self, signin: SignIn, stored: StoredPat) -> bool:
        """Ask the token service whether a stored PAT still works, so one revoked on the server is
        replaced instead of handed out until it expires. An offline or failing service leaves the
        PAT in use: only an answer that means "refused" counts."""
        from ..http import basic_auth_header, refused

        if stored.secret in _accepted:
            return True
        url = f"{stored.vssps_url.rstrip('/')}/_apis/connectionData"
        try:
            response = signin.http().request(
                "GET",
                url,
                headers={"Authorization": basic_auth_header(stored.username, stored.secret)},
                check=False,
            )
        except AzureArtifactsError as exc:
            get_logger().debug("pat: could not verify (%s); using it", one_line(exc))
            return True
        get_logger().debug("pat: %s answered %d", url, response.status_code)
        if refused(response) or anonymous(response):
            return False
        _accepted.add(stored.secret)
        return True

    def create(self, signin: SignIn, key: str, old: Optional[StoredPat], action: Action) -> StoredPat:
        """Create a PAT and store it, then revoke the one it rotates out. Call under the key's lock."""
        from .._text import display_name
        from .client import create_pat, revoke_pat
        from .policy import pat_scopes, valid_to

        signin.ctx.pat_store().ensure_writable()  # a PAT that cannot be kept is never made
        settings, ref, ctx = signin.resolution.settings, signin.resolution.ref, signin.ctx
        now = ctx.now()
        scopes = pat_scopes(settings.scopes, ref.upload)
        name = display_name(ref.org, ref.feed)
        http = signin.http()

        def issue(grant: Grant) -> tuple[Grant, IssuedToken]:
            """A person's token the PAT API refuses (TokenRefused) moves the chain on."""
            if grant.app_only:
                raise AuthenticationFailed(app_only_message(grant.flow))
            wanted = valid_to(now, settings.pat_duration)
            made = create_pat(http, grant.authority.vssps_url, grant.token.token, scopes, wanted, name)
            if made.expires_at < wanted.timestamp() - 3600:
                get_logger().debug(
                    "pat: the organization's lifespan policy shortened it to %d", made.expires_at
                )
            return grant, made

        grant, issued = signin.exchange(issue)
        key = settled_key(signin, grant, key, self.key)
        vssps_url = grant.authority.vssps_url
        record = StoredPat(
            secret=issued.token, authorization_id=issued.authorization_id or "", created_at=int(now),
            expires_at=issued.expires_at, scopes=issued.scopes or scopes, host=ref.netloc.lower(),
            org=ref.org, project=ref.project, feed=ref.feed, vssps_url=vssps_url, display_name=name,
            username=settings.username, service=ref.feed_url(),
        )  # fmt: skip
        ctx.pat_store().put(key, record)
        if old is not None and action is Action.ROTATE and old.authorization_id:
            try:
                revoke_pat(http, old.vssps_url or vssps_url, grant.token.token, old.authorization_id)
            except AzureArtifactsError as exc:
                get_logger().warning(
                    "rotated the PAT for '%s' but could not revoke the old one (%s): %s",
                    ref.org, old.display_name, one_line(exc),
                )  # fmt: skip
        return record

    def forget(self, signin: SignIn, revoke: bool) -> bool:
        """Drop our stored PATs for this feed, revoking each first when asked; a PAT that could not
        be revoked stays stored (so the user can retry) and the failure is raised."""
        store, ref = signin.ctx.pat_store(), signin.resolution.ref
        mine = [(key, pat) for key, pat in store.entries() if same_feed(pat, ref)]
        if not mine:
            return False
        failures: list[str] = []
        grant: Optional[Grant] = signin.token() if revoke else None
        for key, pat in mine:
            if grant is not None:
                from .client import revoke_pat

                try:
                    revoke_pat(
                        signin.http(),
                        pat.vssps_url or grant.authority.vssps_url,
                        grant.token.token,
                        pat.authorization_id,
                    )
                except AzureArtifactsError as exc:
                    failures.append(f"{pat.display_name}: {one_line(exc)}")
                    continue
            store.delete(key)
        if failures:
            raise AuthenticationFailed(
                f"could not revoke {len(failures)} PAT(s) for '{ref.org}' (kept): {failures[0]}"
            )
        return True


# `connectionData` answers a refused credential with 200 and the anonymous identity, not a 401:
# this id (organizations with public projects) or an all-zero / missing one (Git Credential
# Manager for Windows' recorded `ValidateCredentials_Failed` traffic; other clients check the same).
_ANONYMOUS_IDS = frozenset(
    {"", "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "00000000-0000-0000-0000-000000000000"}
)


def anonymous(response: HttpResponse) -> bool:
    """A 2xx `connectionData` answer that names the anonymous identity (or no identity at all)."""
    if not 200 <= response.status_code < 300:
        return False
    try:
        data = response.json()
    except ValueError:
        return True  # not the identity document: nothing says the PAT was accepted
    user = data.get("authenticatedUser") if isinstance(data, dict) else None
    if not isinstance(user, dict):
        return True
    descriptor = str(user.get("descriptor") or "")
    return (
        str(user.get("id") or "").lower() in _ANONYMOUS_IDS
        or descriptor.startswith("System:PublicAccess")
        or str(user.get("providerDisplayName") or "") == "Anonymous"
    )


def same_feed(pat: StoredPat, ref: FeedRef) -> bool:
    """A stored PAT belongs to `ref`: same host and org; project and feed when both name one."""
    if pat.host != ref.netloc.lower() or pat.org.lower() != ref.org.lower():
        return False
    for mine, theirs in ((pat.project, ref.project), (pat.feed, ref.feed)):
        if mine and theirs and mine.lower() != theirs.lower():
            return False
    return True
