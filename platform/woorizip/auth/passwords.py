"""Password hashing: argon2id through pwdlib, with legacy bcrypt hashes upgraded on login.

Korean passphrases are long in bytes (64 Hangul characters are 192 bytes, past bcrypt's 72-byte
limit, which bcrypt 5 refuses and older libraries silently truncated), so new hashes are argon2id
(OWASP ASVS 11.4.2: t=2, m=19 MiB, p=1 at least). Hashes made with other parameters, or by the old
Node.js service's bcrypt, verify once and come back re-hashed for the caller to store.

One rule for every new password (ASVS 6.2): 12 to 1,024 characters of any script, spaces allowed,
not the account's e-mail address or its local part, and not one of the 30,000 common passwords that
zxcvbn ships (compared case-insensitively, also with whitespace removed).
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

import bcrypt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

# Characters, not bytes: a 64-character Hangul passphrase is 192 bytes and well inside.
# Schemas of new-password fields declare minLength/maxLength equal to these.
MIN_LENGTH = 12
MAX_LENGTH = 1024
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

    def hash(self, password: str, *, email: str | None = None) -> str:
        """Hash a new password after `check_policy` (pass the account's e-mail when there is one)."""
        check_policy(password, email=email)
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


def check_policy(password: str, *, email: str | None = None) -> None:
    """Refuse a new password with PasswordPolicyError, whose message never repeats it.

    Length in characters between MIN_LENGTH and MAX_LENGTH, any script, spaces allowed; not the
    e-mail address nor its local part; not a common password. The comparisons ignore case,
    compatibility forms (full-width letters) and whitespace.
    """
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"passwords need at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"passwords may have at most {MAX_LENGTH} characters")
    folded = _fold(password)
    if not folded:
        raise PasswordPolicyError("passwords must not be only spaces")
    if email:
        address = _fold(email)
        if folded in {address, address.rpartition("@")[0]}:
            raise PasswordPolicyError("passwords must not be the account's e-mail address or its local part")
    if folded in _common_passwords():
        raise PasswordPolicyError("this password is one of the most common ones; choose a less predictable one")


def _fold(text: str) -> str:
    """Case, compatibility forms and whitespace ignored: `Pass Word 1234` and `password1234` are one."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


@functools.cache
def _common_passwords() -> frozenset[str]:
    """zxcvbn's list of the 30,000 most common passwords (lower case), loaded on first use."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])
