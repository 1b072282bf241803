"""The identity providers behind one small interface: verify an ID token or access token, run the code flow, revoke.

Everything provider-shaped (Kakao's numeric ids, Naver's `resultcode` envelope, Apple's string booleans and
ES256 client secret) stays in this module, so the service only ever sees a `ProviderIdentity`.
Calls are synchronous: the service runs in the thread pool like the rest of the accounts domain.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import ECKey, Key, KeySet
from joserfc.jws import extract_compact

from woorizip.settings import AppleSettings, KakaoSettings, ProviderSettings, SocialSettings

logger = logging.getLogger(__name__)

# Asymmetric only: `none` and HS* would let anyone holding the public key (or nothing) mint tokens.
ALLOWED_ALGORITHMS = frozenset({"RS256", "ES256"})
_KEY_TYPE_FOR = {"RS256": "RSA", "ES256": "EC"}
# Apple revokes only with a token of the grant; Kakao unlinks by user id with the admin key.
REVOKED_BY_REFRESH_TOKEN = frozenset({"apple"})
# Apple allows six months; a few minutes is all one request needs, and less to lose if it leaks.
APPLE_CLIENT_SECRET_TTL = 300


class InvalidIdToken(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidAccessToken(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ProviderUnavailable(Exception):
    """The provider could not be reached or answered with something that is not a verdict."""


class GrantRefused(Exception):
    """The token endpoint refused the code (spent, expired, PKCE mismatch...)."""


@dataclass(frozen=True)
class ProviderIdentity:
    provider: str
    subject: str
    email: str | None
    email_verified: bool
    display_name: str | None

    @property
    def trusted_email(self) -> str | None:
        """The e-mail only if the provider vouches for it: an unverified one could be anybody's."""
        return self.email.lower() if self.email and self.email_verified else None


@dataclass(frozen=True)
class CodeGrant:
    identity: ProviderIdentity
    refresh_token: str | None


def _flag(value: object) -> bool:
    # Apple sends booleans as the strings "true"/"false"; bool("false") would be True.
    if isinstance(value, str):
        return value.lower() == "true"
    return value is True


def _http(settings: SocialSettings) -> httpx.Client:
    return httpx.Client(timeout=settings.http_timeout_seconds, follow_redirects=False)


# ---- JWKS -------------------------------------------------------------------------------------------


@dataclass
class _CachedKeys:
    keys: KeySet
    fetched_at: float


class JwksCache:
    """JWKS per URL, kept for a TTL; an unknown kid triggers one refetch (key rotation without a restart)."""

    def __init__(self) -> None:
        self._entries: dict[str, _CachedKeys] = {}
        self._lock = threading.Lock()

    def key(self, *, url: str, kid: str, settings: SocialSettings) -> Key:
        with self._lock:
            now = time.monotonic()
            entry = self._entries.get(url)
            if entry is None:
                entry = self._fetch(url=url, settings=settings)
            elif now - entry.fetched_at > settings.jwks_ttl_seconds:
                try:
                    entry = self._fetch(url=url, settings=settings)
                except ProviderUnavailable:
                    # Keys rotate slowly: during a JWKS outage the last good set still verifies most tokens.
                    logger.warning("JWKS refresh failed; using the cached keys", extra={"url": url})
            found = _find(entry.keys, kid)
            if found is None and now - entry.fetched_at >= settings.jwks_refetch_cooldown_seconds:
                entry = self._fetch(url=url, settings=settings)
                found = _find(entry.keys, kid)
            if found is None:
                raise InvalidIdToken("unknown key: no published key has this kid")
            return found

    def _fetch(self, *, url: str, settings: SocialSettings) -> _CachedKeys:
        try:
            with _http(settings) as client:
                response = client.get(url)
            response.raise_for_status()
            keys = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, JoseError) as error:
            raise ProviderUnavailable(f"could not fetch the signing keys: {error}") from None
        entry = _CachedKeys(keys=keys, fetched_at=time.monotonic())
        self._entries[url] = entry
        return entry


def _find(keys: KeySet, kid: str) -> Key | None:
    return next((key for key in keys.keys if key.kid == kid), None)


# ---- ID tokens ------------------------------------------------------------------------------------


def _claim_failure(error: ClaimError) -> str:
    if isinstance(error, ExpiredTokenError):
        return "expired"
    if isinstance(error, MissingClaimError):
        return f"missing claim: {error.claim}"
    if isinstance(error, InvalidClaimError) and error.claim == "aud":
        return "wrong audience"
    if isinstance(error, InvalidClaimError) and error.claim == "iss":
        return "wrong issuer"
    if isinstance(error, InvalidClaimError) and error.claim in ("iat", "nbf"):
        return "not yet valid"
    return f"invalid claim: {error.claim}"


def verify_id_token(
    *, provider: str, settings: SocialSettings, jwks: JwksCache, id_token: str, nonce: str
) -> ProviderIdentity:
    """Signature against the provider's JWKS, then iss, aud, exp and nonce; `nonce` is required."""
    config = settings.provider(provider)
    if not config.issuers or not config.jwks_url:
        raise InvalidIdToken(f"{provider} issues no ID tokens")
    try:
        header = extract_compact(id_token.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError):
        raise InvalidIdToken("malformed token") from None
    algorithm = header.get("alg")
    if algorithm not in ALLOWED_ALGORITHMS:
        raise InvalidIdToken(f"bad signature: algorithm {algorithm!r} is not accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidIdToken("unknown key: the token names no kid")
    key = jwks.key(url=config.jwks_url, kid=kid, settings=settings)
    if key.key_type != _KEY_TYPE_FOR[algorithm]:
        raise InvalidIdToken("bad signature: the key does not fit the algorithm")
    try:
        token = jwt.decode(id_token, key, algorithms=[algorithm])
    except BadSignatureError:
        raise InvalidIdToken("bad signature") from None
    except JoseError as error:
        raise InvalidIdToken(f"bad signature: {error}") from None
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        leeway=settings.clock_leeway_seconds,
        iss={"essential": True, "values": config.issuers},
        aud={"essential": True, "values": config.audiences},
        sub={"essential": True},
        exp={"essential": True},
    )
    try:
        registry.validate(claims)
    except ClaimError as error:
        raise InvalidIdToken(_claim_failure(error)) from None
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") not in config.audiences:
        # OIDC Core 3.1.3.7: with several audiences the authorized party must be us.
        raise InvalidIdToken("wrong audience: azp is not our client")
    presented = claims.get("nonce")
    if not nonce or not isinstance(presented, str) or not hmac.compare_digest(presented, nonce):
        raise InvalidIdToken("nonce mismatch")
    email = claims.get("email")
    # Kakao puts an e-mail into its ID token only once it is verified, and sends no flag.
    verified = True if provider == "kakao" else _flag(claims.get("email_verified"))
    name = claims.get("name") or claims.get("nickname")
    return ProviderIdentity(
        provider=provider,
        subject=str(claims["sub"]),
        email=email if isinstance(email, str) else None,
        email_verified=verified,
        display_name=name if isinstance(name, str) else None,
    )


# ---- access tokens (profile endpoints) ------------------------------------------------------------


def fetch_profile(*, provider: str, settings: SocialSettings, access_token: str) -> ProviderIdentity:
    """Ask the provider who the access token belongs to (Kakao /v2/user/me, Naver /v1/nid/me)."""
    config = settings.provider(provider)
    if provider not in ("kakao", "naver") or not config.userinfo_url:
        raise InvalidAccessToken(f"{provider} sign-in takes an ID token")
    try:
        with _http(settings) as client:
            response = client.get(config.userinfo_url, headers={"Authorization": f"Bearer {access_token}"})
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderUnavailable(f"{provider} answered {response.status_code}")
        body = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise ProviderUnavailable(f"{provider} profile endpoint failed: {error}") from None
    if not isinstance(body, dict):
        raise ProviderUnavailable(f"{provider} answered an unexpected body")
    if provider == "naver":
        return _naver_profile(response.status_code, body)
    return _kakao_profile(response.status_code, body)


def _naver_profile(status: int, body: dict[str, Any]) -> ProviderIdentity:
    profile = body.get("response")
    if status != 200 or body.get("resultcode") != "00" or not isinstance(profile, dict) or not profile.get("id"):
        raise InvalidAccessToken(f"naver refused the access token: {body.get('message', status)}")
    email = profile.get("email")
    name = profile.get("nickname") or profile.get("name")
    return ProviderIdentity(
        provider="naver",
        subject=str(profile["id"]),
        email=email if isinstance(email, str) else None,
        # Naver sends no verification flag, so its e-mail never stands for an account.
        email_verified=False,
        display_name=name if isinstance(name, str) else None,
    )


def _kakao_profile(status: int, body: dict[str, Any]) -> ProviderIdentity:
    if status != 200 or not isinstance(body.get("id"), int):
        raise InvalidAccessToken(f"kakao refused the access token: {body.get('msg', status)}")
    account = body.get("kakao_account") if isinstance(body.get("kakao_account"), dict) else {}
    assert isinstance(account, dict)
    profile = account.get("profile") if isinstance(account.get("profile"), dict) else {}
    assert isinstance(profile, dict)
    email = account.get("email")
    name = profile.get("nickname")
    return ProviderIdentity(
        provider="kakao",
        subject=str(body["id"]),  # the same string the ID token's sub carries
        email=email if isinstance(email, str) else None,
        email_verified=_flag(account.get("is_email_valid")) and _flag(account.get("is_email_verified")),
        display_name=name if isinstance(name, str) and name else None,
    )


# ---- authorization code flow ---------------------------------------------------------------------


def apple_client_secret(config: AppleSettings, *, now: float | None = None) -> str:
    """Apple's client secret: an ES256 JWT signed with the team key, audience Apple's issuer."""
    if not (config.team_id and config.key_id and config.private_key):
        raise ProviderUnavailable("Apple sign-in needs team_id, key_id and private_key")
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": config.team_id,
        "iat": issued,
        "exp": issued + APPLE_CLIENT_SECRET_TTL,
        "aud": config.issuers[0],
        "sub": config.client_id,
    }
    key = ECKey.import_key(config.private_key.get_secret_value())
    return jwt.encode({"alg": "ES256", "kid": config.key_id}, claims, key, algorithms=["ES256"])


def _client_secret(provider: str, config: ProviderSettings) -> str | None:
    if isinstance(config, AppleSettings):
        return apple_client_secret(config)
    return config.client_secret.get_secret_value() if config.client_secret else None


def _oauth_client(
    *, provider: str, settings: SocialSettings, redirect_uri: str, with_secret: bool = True
) -> OAuth2Client:
    config = settings.provider(provider)
    return OAuth2Client(
        client_id=config.client_id,
        client_secret=_client_secret(provider, config) if with_secret else None,
        token_endpoint_auth_method=config.token_auth_method,
        scope=config.scope or None,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=settings.http_timeout_seconds,
    )


def authorization_url(
    *, provider: str, settings: SocialSettings, redirect_uri: str, state: str, nonce: str, code_verifier: str
) -> str:
    """The provider's authorize URL with PKCE (S256), state and, for OpenID providers, nonce."""
    config = settings.provider(provider)
    extra: dict[str, str] = {}
    if config.issuers:
        extra["nonce"] = nonce
    if provider == "apple":
        # Apple insists on form_post whenever name or email is asked for.
        extra["response_mode"] = "form_post"
    with _oauth_client(provider=provider, settings=settings, redirect_uri=redirect_uri, with_secret=False) as client:
        url, _ = client.create_authorization_url(
            config.authorize_url, state=state, code_verifier=code_verifier, **extra
        )
    return str(url)


def exchange_code(
    *,
    provider: str,
    settings: SocialSettings,
    jwks: JwksCache,
    redirect_uri: str,
    code: str,
    code_verifier: str,
    nonce: str,
) -> CodeGrant:
    """Trade the code (with the PKCE verifier) for tokens; the ID token must carry our nonce."""
    config = settings.provider(provider)
    try:
        with _oauth_client(provider=provider, settings=settings, redirect_uri=redirect_uri) as client:
            token = client.fetch_token(config.token_url, code=code, code_verifier=code_verifier)
    except OAuthError as error:
        raise GrantRefused(f"{error.error}: {error.description}") from None
    except (httpx.HTTPError, ValueError) as error:
        raise ProviderUnavailable(f"{provider} token endpoint failed: {error}") from None
    refresh_token = token.get("refresh_token")
    refresh = refresh_token if isinstance(refresh_token, str) else None
    id_token = token.get("id_token")
    if config.issuers:
        if not isinstance(id_token, str):
            raise GrantRefused(f"{provider} returned no ID token")
        identity = verify_id_token(provider=provider, settings=settings, jwks=jwks, id_token=id_token, nonce=nonce)
        return CodeGrant(identity=identity, refresh_token=refresh)
    access = token.get("access_token")
    if not isinstance(access, str):
        raise GrantRefused(f"{provider} returned no access token")
    try:
        identity = fetch_profile(provider=provider, settings=settings, access_token=access)
    except InvalidAccessToken as error:
        raise GrantRefused(error.reason) from None
    return CodeGrant(identity=identity, refresh_token=refresh)


# ---- revocation -------------------------------------------------------------------------------------


def revoke_grant(*, provider: str, settings: SocialSettings, subject: str, refresh_token: str | None) -> bool:
    """End our app's authorization at the provider; False when there was nothing we could revoke with."""
    config = settings.provider(provider)
    if not config.enabled or not config.revoke_url:
        return False
    try:
        with _http(settings) as client:
            if isinstance(config, AppleSettings):
                if refresh_token is None:
                    return False
                response = client.post(
                    config.revoke_url,
                    data={
                        "client_id": config.client_id,
                        "client_secret": apple_client_secret(config),
                        "token": refresh_token,
                        "token_type_hint": "refresh_token",
                    },
                )
            elif isinstance(config, KakaoSettings):
                if config.admin_key is None:
                    return False
                response = client.post(
                    config.revoke_url,
                    data={"target_id_type": "user_id", "target_id": subject},
                    headers={"Authorization": f"KakaoAK {config.admin_key.get_secret_value()}"},
                )
            else:
                return False
    except httpx.HTTPError as error:
        raise ProviderUnavailable(f"{provider} revoke failed: {error}") from None
    if response.status_code != 200:
        raise ProviderUnavailable(f"{provider} revoke answered {response.status_code}: {response.text[:200]}")
    return True
