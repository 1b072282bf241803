"""Access tokens revoked before they expire: one token by (iss, jti), or every token of a session.

Access tokens carry their session (the refresh chain, claim `sid`): ending a user's sessions
(password change, deletion) denies those sids, so tokens of a session started afterwards stay
valid even within the same second. Entries live in the cache (Redis in production, in-process on
the embedded default) until the last affected access token would have expired anyway.
"""

from __future__ import annotations

from datetime import UTC, datetime

from woorizip.auth.tokens import MAX_ACCESS_TTL, AccessClaims
from woorizip.cache import Cache


class DenyList:
    def __init__(self, *, cache: Cache, issuer: str) -> None:
        self.cache = cache
        self.issuer = issuer

    def deny(self, claims: AccessClaims, *, now: datetime | None = None) -> None:
        """Refuse this one token from now on (logout)."""
        remaining = (claims.expires_at - (now or datetime.now(UTC))).total_seconds()
        if remaining > 0:
            self.cache.set(f"deny:{self.issuer}:{claims.token_id}", b"1", ttl_seconds=remaining + 60)

    def deny_sessions(self, session_ids: list[str]) -> None:
        """Refuse every access token of these sessions from now on (password change, deletion)."""
        ttl = MAX_ACCESS_TTL.total_seconds() + 60
        for session_id in session_ids:
            self.cache.set(f"deny-sid:{self.issuer}:{session_id}", b"1", ttl_seconds=ttl)

    def is_denied(self, claims: AccessClaims) -> bool:
        if self.cache.get(f"deny:{self.issuer}:{claims.token_id}") is not None:
            return True
        session_id = claims.extra.get("sid")
        return isinstance(session_id, str) and self.cache.get(f"deny-sid:{self.issuer}:{session_id}") is not None
