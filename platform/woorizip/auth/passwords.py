"""Password hashing: argon2id through pwdlib, with legacy bcrypt hashes upgraded on login.

Korean passphrases are long in bytes (64 Hangul characters are 192 bytes, past bcrypt's 72-byte
limit, which bcrypt 5 refuses and older libraries silently truncated), so new hashes are argon2id
(OWASP ASVS 11.4.2: t=2, m=19 MiB, p=1 at least). Hashes made with other parameters, or by the old
Node.js service's bcrypt, verify once and come back re-hashed for the caller to store.
"""

from __future__ import annotations

from dataclasses import dataclass

import bcrypt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

MIN_LENGTH = 8
MAX_LENGTH = 256  # characters, not bytes: a 64-character Hangul passphrase is well inside
BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
BCRYPT_MAX_BYTES = 72


class PasswordPolicyError(ValueError):
    """The password cannot be accepted; the message says why, never echoing it."""


@dataclass(frozen=True)
class Verification:
    ok: bool
    new_hash: str | None = None  # set when the stored hash should be replaced by this one


class PasswordHasher:
    """Hashes and verifies passwords with one argon2id parameter set."""

    def __init__(self, *, time_cost: int = 2, memory_cost_kib: int = 19_456, parallelism: int = 1) -> None:
        self._argon2 = PasswordHash(
            (Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism),)
        )

    def hash(self, password: str) -> str:
        check_policy(password)
        return self._argon2.hash(password)

    def verify(self, password: str, stored_hash: str) -> Verification:
        """Check `password` against a stored hash; a legacy or outdated hash comes back upgraded."""
        if stored_hash.startswith(BCRYPT_PREFIXES):
            # The old service's bcrypt used only the first 72 bytes; verify the same way, then move on.
            candidate = password.encode("utf-8")[:BCRYPT_MAX_BYTES]
            try:
                ok = bcrypt.checkpw(candidate, stored_hash.encode("ascii"))
            except ValueError:
                ok = False
            return Verification(ok=ok, new_hash=self._argon2.hash(password) if ok else None)
        try:
            ok, updated = self._argon2.verify_and_update(password, stored_hash)
        except Exception:  # an unreadable stored hash is a failed login, never a crash
            return Verification(ok=False)
        return Verification(ok=ok, new_hash=updated if ok else None)


def check_policy(password: str) -> None:
    """Length in characters between MIN_LENGTH and MAX_LENGTH; any script, spaces allowed (ASVS 6.2)."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"passwords need at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"passwords may have at most {MAX_LENGTH} characters")
