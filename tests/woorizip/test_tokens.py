"""JWT attacks and rotation: every forged or misused token is refused with a reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from woorizip.auth.tokens import InvalidToken, SigningKey, TokenService

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.generate("k1")


@pytest.fixture
def service(key: SigningKey) -> TokenService:
    return TokenService(active=key, issuer="https://api.woorizip.kr", audience="woorizip-app")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, object], dict[str, object], str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def test_round_trip(service: TokenService) -> None:
    token = service.issue_access(subject="user-1", now=NOW, family_ids=["f1"])
    claims = service.verify_access(token, now=NOW + timedelta(minutes=5))
    assert claims.subject == "user-1"
    assert claims.expires_at - claims.issued_at == timedelta(minutes=15)
    assert claims.extra["family_ids"] == ["f1"]
    header, _, _ = _parts(token)
    assert header["kid"] == "k1" and header["alg"] == "EdDSA" and header["typ"] == "at+jwt"


def test_expired_and_not_yet_valid(service: TokenService) -> None:
    token = service.issue_access(subject="u", now=NOW)
    with pytest.raises(InvalidToken, match="expired"):
        service.verify_access(token, now=NOW + timedelta(minutes=16))
    with pytest.raises(InvalidToken, match="not yet valid"):
        service.verify_access(token, now=NOW - timedelta(minutes=5))
    real_clock = service.issue_access(subject="u", now=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(InvalidToken, match="expired"):
        service.verify_access(real_clock)


def test_wrong_audience_and_issuer(key: SigningKey) -> None:
    token = TokenService(active=key, issuer="https://evil.example", audience="woorizip-app").issue_access(subject="u")
    with pytest.raises(InvalidToken, match="wrong issuer"):
        TokenService(active=key, issuer="https://api.woorizip.kr", audience="woorizip-app").verify_access(token)
    token = TokenService(active=key, issuer="https://api.woorizip.kr", audience="other").issue_access(subject="u")
    with pytest.raises(InvalidToken, match="wrong audience"):
        TokenService(active=key, issuer="https://api.woorizip.kr", audience="woorizip-app").verify_access(token)


def test_alg_none_is_refused(service: TokenService) -> None:
    _, payload, _ = _parts(service.issue_access(subject="u"))
    header = _b64(json.dumps({"alg": "none", "typ": "at+jwt", "kid": "k1"}).encode())
    forged = f"{header}.{_b64(json.dumps(payload).encode())}."
    with pytest.raises(InvalidToken, match="algorithm 'none'"):
        service.verify_access(forged)


def test_hs256_with_the_public_key_as_secret_is_refused(service: TokenService, key: SigningKey) -> None:
    public_pem = key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _, payload, _ = _parts(service.issue_access(subject="u"))
    header = {"alg": "HS256", "typ": "at+jwt", "kid": "k1"}
    # Signed by hand: PyJWT itself refuses to use a PEM as an HMAC secret, an attacker would not.
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{_b64(signature)}"
    with pytest.raises(InvalidToken, match="algorithm 'HS256'"):
        service.verify_access(forged)


@pytest.mark.parametrize("header", ["jku", "jwk", "x5u", "x5c"])
def test_key_bearing_headers_are_refused(header: str) -> None:
    attacker = SigningKey.generate("k1")
    service = TokenService(active=attacker, issuer="i", audience="a")
    token = jwt.encode(
        {"iss": "i", "aud": "a", "sub": "u", "iat": NOW, "nbf": NOW, "exp": NOW + timedelta(minutes=5), "jti": "x"},
        attacker.private_key,
        algorithm="EdDSA",
        headers={"kid": "k1", "typ": "at+jwt", header: "https://evil.example/keys"},
    )
    with pytest.raises(InvalidToken, match="key-bearing headers"):
        service.verify_access(token, now=NOW)


def test_tampered_payload_is_refused(service: TokenService) -> None:
    token = service.issue_access(subject="user-1")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "admin"
    with pytest.raises(InvalidToken, match="InvalidSignatureError"):
        service.verify_access(f"{header}.{_b64(json.dumps(claims).encode())}.{signature}")


def test_wrong_token_type_and_unknown_kid(service: TokenService) -> None:
    other = SigningKey.generate("k9")
    claims = {"iss": service.issuer, "aud": service.audience, "sub": "u", "iat": NOW, "nbf": NOW,
              "exp": NOW + timedelta(minutes=5), "jti": "x"}  # fmt: skip
    refresh_typed = jwt.encode(claims, other.private_key, algorithm="EdDSA", headers={"kid": "k1", "typ": "rt+jwt"})
    with pytest.raises(InvalidToken, match="not an access token"):
        service.verify_access(refresh_typed, now=NOW)
    unknown = jwt.encode(claims, other.private_key, algorithm="EdDSA", headers={"kid": "k9", "typ": "at+jwt"})
    with pytest.raises(InvalidToken, match="unknown key id"):
        service.verify_access(unknown, now=NOW)
    with pytest.raises(InvalidToken, match="malformed"):
        service.verify_access("not-a-jwt")


def test_key_rotation_keeps_old_tokens_valid_until_the_key_is_retired(key: SigningKey) -> None:
    old_service = TokenService(active=key, issuer="i", audience="a")
    old_token = old_service.issue_access(subject="u")
    new_key = SigningKey.generate("k2")
    rotated = TokenService(active=new_key, retired=(key,), issuer="i", audience="a")
    assert rotated.verify_access(old_token).subject == "u"
    assert _parts(rotated.issue_access(subject="u"))[0]["kid"] == "k2"
    retired = TokenService(active=new_key, issuer="i", audience="a")
    with pytest.raises(InvalidToken, match="unknown key id"):
        retired.verify_access(old_token)


def test_access_tokens_cannot_outlive_fifteen_minutes(key: SigningKey) -> None:
    with pytest.raises(ValueError, match="15 minutes"):
        TokenService(active=key, issuer="i", audience="a", access_ttl=timedelta(hours=1))
