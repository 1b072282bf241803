"""JWT access tokens: EdDSA-signed, `kid` in the header, several verification keys for rotation.

Verification accepts one algorithm only and never takes a key from the token itself: `alg=none`,
HS/RS confusion and attacker `jku`/`jwk`/`x5u`/`x5c` headers are refused before any signature check
(OWASP ASVS 9.1.1-9.2.3). Access tokens live at most 15 minutes and carry a `jti`, so a deny-list
keyed by (iss, jti) can revoke them at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.types import Options

ALGORITHM = "EdDSA"
ACCESS_TYPE = "at+jwt"  # RFC 9068 typ for access tokens
MAX_ACCESS_TTL = timedelta(minutes=15)
FORBIDDEN_HEADERS = frozenset({"jku", "jwk", "x5u", "x5c"})
REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "iat", "nbf", "jti"]


class InvalidToken(Exception):
    """The token must be refused; `reason` is safe to log, never the token itself."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        return cls(kid=kid or uuid.uuid4().hex[:16], private_key=Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, kid: str, pem: bytes) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"key {kid!r} is not an Ed25519 private key")
        return cls(kid=kid, private_key=key)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()


@dataclass(frozen=True)
class AccessClaims:
    subject: str
    token_id: str
    issued_at: datetime
    expires_at: datetime
    extra: Mapping[str, Any]


class TokenService:
    """Issues with the active key; verifies with any key still in the rotation."""

    def __init__(
        self,
        *,
        active: SigningKey,
        retired: tuple[SigningKey, ...] = (),
        issuer: str,
        audience: str,
        access_ttl: timedelta = MAX_ACCESS_TTL,
        leeway: timedelta = timedelta(seconds=30),
    ) -> None:
        if access_ttl > MAX_ACCESS_TTL:
            raise ValueError("access tokens may live at most 15 minutes")
        self._active = active
        self._public = {key.kid: key.public_key for key in (active, *retired)}
        self.issuer = issuer
        self.audience = audience
        self.access_ttl = access_ttl
        self.leeway = leeway

    def issue_access(self, *, subject: str, now: datetime | None = None, **extra: Any) -> str:
        issued = now or datetime.now(UTC)
        claims = {
            **extra,
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": issued,
            "nbf": issued,
            "exp": issued + self.access_ttl,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(
            claims, self._active.private_key, algorithm=ALGORITHM, headers={"kid": self._active.kid, "typ": ACCESS_TYPE}
        )

    def verify_access(self, token: str, *, now: datetime | None = None) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidToken("malformed token") from error
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
        if FORBIDDEN_HEADERS & header.keys():
            raise InvalidToken("key-bearing headers are not accepted")
        if header.get("typ") != ACCESS_TYPE:
            raise InvalidToken("not an access token")
        key = self._public.get(str(header.get("kid")))
        if key is None:
            raise InvalidToken("unknown key id")
        options: Options = {"require": REQUIRED_CLAIMS}
        if now is not None:
            # PyJWT reads the clock itself; a given `now` (tests, replays) shifts the leeway instead.
            options["verify_exp"] = options["verify_nbf"] = options["verify_iat"] = False
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options=options,
            )
        except jwt.ExpiredSignatureError as error:
            raise InvalidToken("expired") from error
        except jwt.ImmatureSignatureError as error:
            raise InvalidToken("not yet valid") from error
        except jwt.InvalidAudienceError as error:
            raise InvalidToken("wrong audience") from error
        except jwt.InvalidIssuerError as error:
            raise InvalidToken("wrong issuer") from error
        except jwt.PyJWTError as error:
            raise InvalidToken(f"invalid token: {type(error).__name__}") from error
        expires = datetime.fromtimestamp(claims["exp"], UTC)
        not_before = datetime.fromtimestamp(claims["nbf"], UTC)
        if now is not None:
            if now > expires + self.leeway:
                raise InvalidToken("expired")
            if now < not_before - self.leeway:
                raise InvalidToken("not yet valid")
        reserved = set(REQUIRED_CLAIMS)
        return AccessClaims(
            subject=str(claims["sub"]),
            token_id=str(claims["jti"]),
            issued_at=datetime.fromtimestamp(claims["iat"], UTC),
            expires_at=expires,
            extra={name: value for name, value in claims.items() if name not in reserved},
        )
