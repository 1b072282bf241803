"""A loopback identity provider that speaks Google, Apple, Kakao and Naver sign-in, for tests.

Our sign-in code takes every provider URL and issuer from settings, so tests point those settings at
this server instead of the real hosts. Each provider lives under its own path prefix (`/google`,
`/apple`, `/kakao`, `/naver`) and answers in that provider's own shapes -- Kakao's `{"msg", "code"}`
401s, Naver's `resultcode` envelope and string `expires_in`, Apple's ES256 client-secret JWT and
string `email_verified` -- because code that only ever met a generic OAuth server breaks on the real
ones. Tokens are really signed (RS256, one key per provider, with `kid`), and the JWKS really serves
the public halves, so verification code runs unmodified.

Deliberately strict where the real providers are lenient, because the app must not rely on leniency:
PKCE with S256 is required at every provider (the real Naver ignores it), and a presented code is
spent even when the exchange then fails.

    with LoopbackIdP() as idp:
        idp.register_client("google", client_id="web", client_secret="s3cret", redirect_uris=[callback])
        idp.add_user("google", subject="1001", email="mom@example.com", nickname="엄마")
        idp.login_as("google", "1001")
        settings = idp.endpoints("google")   # issuer, authorize_url, token_url, jwks_url, ...
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from types import TracebackType
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "PROVIDERS",
    "LoopbackIdP",
    "Revocation",
    "ThreadSafeList",
    "form_post_fields",
    "new_apple_team_key",
    "pkce_pair",
]

PROVIDERS: tuple[str, ...] = ("google", "apple", "kakao", "naver")

# Apple refuses client secrets that live longer than six months.
APPLE_CLIENT_SECRET_MAX_LIFETIME = 15_777_000

_PKCE_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_PKCE_S256_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")
_APPLE_RELAY_DOMAIN = "@privaterelay.appleid.com"
_NAVER_AUTH_FAILED = {"resultcode": "024", "message": "Authentication failed (인증 실패하였습니다.)"}
# Extra user fields that describe the profile APIs' nesting rather than being claims themselves.
_NON_CLAIM_EXTRAS = frozenset({"kakao_account", "properties", "first_name", "last_name"})
_APPLE_CLAIMS = (
    "aud email email_verified exp iat is_private_email iss nonce nonce_supported real_user_status sub transfer_sub"
)
_KAKAO_CLAIMS = "aud auth_time email exp iat iss nickname nonce picture sub"

T = TypeVar("T")


@dataclass(frozen=True)
class _Spec:
    """What a provider exposes, mirroring the real one's paths under our prefix."""

    oidc: bool
    authorize_path: str
    token_path: str
    jwks_path: str | None
    userinfo_path: str | None
    revoke_path: str | None
    # What the real provider accepts; register_client can widen it for one client.
    auth_methods: frozenset[str]
    token_type: str
    access_ttl: int
    response_modes: frozenset[str]


_SPECS: dict[str, _Spec] = {
    # accounts.google.com/o/oauth2/v2/auth, oauth2.googleapis.com/token, www.googleapis.com/oauth2/v3/certs,
    # openidconnect.googleapis.com/v1/userinfo, oauth2.googleapis.com/revoke
    "google": _Spec(
        oidc=True,
        authorize_path="/o/oauth2/v2/auth",
        token_path="/token",
        jwks_path="/oauth2/v3/certs",
        userinfo_path="/v1/userinfo",
        revoke_path="/revoke",
        auth_methods=frozenset({"client_secret_post", "client_secret_basic"}),
        token_type="Bearer",
        access_ttl=3599,
        response_modes=frozenset({"query"}),
    ),
    # appleid.apple.com/auth/{authorize,token,keys,revoke}; Apple has no userinfo endpoint.
    "apple": _Spec(
        oidc=True,
        authorize_path="/auth/authorize",
        token_path="/auth/token",
        jwks_path="/auth/keys",
        userinfo_path=None,
        revoke_path="/auth/revoke",
        auth_methods=frozenset({"client_secret_post"}),
        token_type="Bearer",
        access_ttl=3600,
        response_modes=frozenset({"query", "form_post"}),
    ),
    # kauth.kakao.com/oauth/{authorize,token}, kauth.kakao.com/.well-known/jwks.json,
    # kapi.kakao.com/v2/user/me and /v1/user/unlink (kauth and kapi share our one prefix).
    "kakao": _Spec(
        oidc=True,
        authorize_path="/oauth/authorize",
        token_path="/oauth/token",
        jwks_path="/.well-known/jwks.json",
        userinfo_path="/v2/user/me",
        revoke_path="/v1/user/unlink",
        auth_methods=frozenset({"client_secret_post"}),
        token_type="bearer",
        access_ttl=21599,
        response_modes=frozenset({"query"}),
    ),
    # nid.naver.com/oauth2.0/{authorize,token}, openapi.naver.com/v1/nid/me. Naver deletes tokens through
    # its token endpoint (grant_type=delete), so that URL doubles as the revoke URL.
    "naver": _Spec(
        oidc=False,
        authorize_path="/oauth2.0/authorize",
        token_path="/oauth2.0/token",
        jwks_path=None,
        userinfo_path="/v1/nid/me",
        revoke_path="/oauth2.0/token",
        auth_methods=frozenset({"client_secret_post"}),
        token_type="bearer",
        access_ttl=3600,
        response_modes=frozenset({"query"}),
    ),
}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64url(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _s256(verifier: str) -> str:
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def _half_hash(value: str) -> str:
    """OIDC at_hash / c_hash for RS256: the left half of SHA-256, base64url."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return _b64url(digest[: len(digest) // 2])


def pkce_pair() -> tuple[str, str]:
    """A fresh (code_verifier, S256 code_challenge) pair."""
    verifier = secrets.token_urlsafe(48)
    return verifier, _s256(verifier)


def new_apple_team_key() -> tuple[str, str]:
    """A P-256 key pair in PEM, standing in for the team's Sign in with Apple .p8 key: (private, public)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return private_pem, public_pem


class _FormFields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action = values.get("action", "")
        elif tag == "input" and "name" in values:
            self.fields[values["name"]] = values.get("value", "")


def form_post_fields(page: str) -> tuple[str, dict[str, str]]:
    """The (action URL, fields) of a response_mode=form_post page, i.e. what a browser would POST."""
    parser = _FormFields()
    parser.feed(page)
    return parser.action, parser.fields


class ThreadSafeList(Generic[T]):
    """An append-only log shared between the server thread and the test thread."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._lock = threading.Lock()

    def append(self, item: T) -> None:
        with self._lock:
            self._items.append(item)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[T]:
        with self._lock:
            return list(self._items)

    def count(self, item: T) -> int:
        with self._lock:
            return self._items.count(item)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __iter__(self) -> Iterator[T]:
        # Iterate a copy: the server thread may append meanwhile.
        return iter(self.snapshot())

    def __contains__(self, item: object) -> bool:
        with self._lock:
            return item in self._items

    def __getitem__(self, index: int) -> T:
        with self._lock:
            return self._items[index]

    def __repr__(self) -> str:
        return f"ThreadSafeList({self.snapshot()!r})"


@dataclass(frozen=True)
class Revocation:
    """One call to Apple/Google revoke, Kakao unlink or Naver token delete, as the provider saw it."""

    provider: str
    kind: str  # "revoke" (Apple, Google), "unlink" (Kakao), "delete" (Naver)
    client_id: str | None
    subject: str | None  # None when the presented token was unknown to us
    token: str | None
    token_type_hint: str | None = None


@dataclass
class _SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> _SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = key.public_key().public_numbers()
        # RFC 7638 thumbprint: a stable kid derived from the key itself.
        canonical = json.dumps(
            {"e": _int_b64url(numbers.e), "kty": "RSA", "n": _int_b64url(numbers.n)},
            separators=(",", ":"),
            sort_keys=True,
        )
        return cls(kid=_b64url(hashlib.sha256(canonical.encode()).digest()), private_key=key)

    def public_jwk(self) -> dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
            "n": _int_b64url(numbers.n),
            "e": _int_b64url(numbers.e),
        }


@dataclass
class _Client:
    client_id: str
    client_secret: str | None
    redirect_uris: tuple[str, ...]
    auth_methods: frozenset[str]
    apple_team_id: str | None = None
    apple_key_id: str | None = None
    apple_public_key: ec.EllipticCurvePublicKey | None = None
    kakao_admin_key: str | None = None


@dataclass
class _User:
    subject: str
    email: str | None
    email_verified: bool
    nickname: str | None
    extra: dict[str, Any]
    connected_at: float


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    subject: str
    code_challenge: str
    nonce: str | None
    scope: str
    expires_at: float
    auth_time: int
    used: bool = False
    issued: list[str] = field(default_factory=list)


@dataclass
class _Token:
    provider: str
    kind: str  # "access" or "refresh"
    client_id: str | None
    subject: str
    scope: str
    expires_at: float | None
    auth_time: int
    revoked: bool = False


@dataclass
class _ProviderState:
    keys: list[_SigningKey] = field(default_factory=list)
    clients: dict[str, _Client] = field(default_factory=dict)
    users: dict[str, _User] = field(default_factory=dict)
    login_subject: str | None = None
    codes: dict[str, _Code] = field(default_factory=dict)
    # Apple sends the `user` form field (name, email) only on a user's first authorization of a client.
    apple_user_sent: set[tuple[str, str]] = field(default_factory=set)


class _TokenError(Exception):
    """A token-endpoint refusal, rendered in the provider's own error shape."""

    def __init__(self, error: str, description: str, *, kakao_code: str | None = None) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.kakao_code = kakao_code


class _RecordRequests:
    """ASGI wrapper that logs (method, path) before routing, so even 404s and 405s show up."""

    def __init__(self, app: ASGIApp, log: ThreadSafeList[tuple[str, str]]) -> None:
        self._app = app
        self._log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self._log.append((scope["method"], scope["path"]))
        await self._app(scope, receive, send)


def _append_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


class LoopbackIdP:
    """Google, Apple, Kakao and Naver sign-in on one loopback port, served from a background thread.

    State (clients, users, keys, codes, tokens) lives in memory and is shared by the test thread and the
    server thread under one lock. Expiry is judged by `now()`, which `advance_clock` moves forward.
    """

    def __init__(self, *, host: str = "127.0.0.1", code_ttl: float = 300.0, startup_timeout: float = 10.0) -> None:
        self._host = host
        self._code_ttl = code_ttl
        self._startup_timeout = startup_timeout
        self._lock = threading.RLock()
        self._clock_offset = 0.0
        self._providers = {
            name: _ProviderState(keys=[_SigningKey.generate()] if spec.oidc else []) for name, spec in _SPECS.items()
        }
        # Signs "foreign" tokens: a real RS256 signature by a key no JWKS ever lists.
        self._foreign_key = _SigningKey.generate()
        self._tokens: dict[str, _Token] = {}
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._base_url: str | None = None
        self.requests: ThreadSafeList[tuple[str, str]] = ThreadSafeList()
        self.revoked: ThreadSafeList[Revocation] = ThreadSafeList()

    # ---- lifecycle -------------------------------------------------------------------------------

    def start(self) -> LoopbackIdP:
        if self._server is not None:
            raise RuntimeError("LoopbackIdP is already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Binding port 0 ourselves and handing uvicorn the socket leaves no window for another process
        # to grab the port between choosing and listening.
        sock.bind((self._host, 0))
        port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            _RecordRequests(self._build_app(), self.requests),
            host=self._host,
            port=port,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="h11",
            loop="asyncio",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="loopback-idp", daemon=True)
        thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(timeout=5)
                sock.close()
                raise RuntimeError("the loopback IdP did not start")
            time.sleep(0.01)
        self._server, self._thread, self._socket = server, thread, sock
        self._base_url = f"http://{self._host}:{port}"
        return self

    def stop(self) -> None:
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = self._socket = None
        self._base_url = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=10)
        if sock is not None:
            sock.close()

    def __enter__(self) -> LoopbackIdP:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("LoopbackIdP is not started")
        return self._base_url

    # ---- URLs --------------------------------------------------------------------------------------

    def issuer(self, provider: str) -> str:
        if not self._spec(provider).oidc:
            raise ValueError(f"{provider} is not an OpenID provider and has no issuer")
        return f"{self.base_url}/{provider}"

    def endpoints(self, provider: str) -> dict[str, str | None]:
        """Everything our app's settings need for `provider`; None where the real provider has no such thing."""
        spec = self._spec(provider)
        root = f"{self.base_url}/{provider}"

        def url(path: str | None) -> str | None:
            return None if path is None else root + path

        return {
            "issuer": root if spec.oidc else None,
            "discovery_url": f"{root}/.well-known/openid-configuration" if spec.oidc else None,
            "authorize_url": url(spec.authorize_path),
            "token_url": url(spec.token_path),
            "jwks_url": url(spec.jwks_path),
            "userinfo_url": url(spec.userinfo_path),
            "revoke_url": url(spec.revoke_path),
        }

    # ---- configuration -------------------------------------------------------------------------------

    def register_client(
        self,
        provider: str,
        *,
        client_id: str,
        client_secret: str | None = None,
        redirect_uris: Iterable[str] = (),
        apple_team_id: str | None = None,
        apple_key_id: str | None = None,
        apple_public_key: str | bytes | None = None,
        kakao_admin_key: str | None = None,
        token_auth_methods: Iterable[str] | None = None,
    ) -> None:
        """Register (or replace) an OAuth client.

        Apple clients have no static secret: pass the team id, key id and the team key's public PEM, and
        the token endpoint will verify the ES256 client-secret JWT. `client_secret=None` elsewhere makes
        a public client (Kakao's client secret is optional). `token_auth_methods` widens what the token
        endpoint accepts beyond what the real provider does (Kakao, Apple and Naver take only
        client_secret_post; Google also takes client_secret_basic).
        """
        spec = self._spec(provider)
        public_key: ec.EllipticCurvePublicKey | None = None
        if provider == "apple":
            if client_secret is not None:
                raise ValueError("Apple clients authenticate with an ES256 JWT; pass apple_public_key, not a secret")
            if not (apple_team_id and apple_key_id and apple_public_key):
                raise ValueError("Apple clients need apple_team_id, apple_key_id and apple_public_key")
            pem = apple_public_key.encode() if isinstance(apple_public_key, str) else apple_public_key
            loaded = serialization.load_pem_public_key(pem)
            if not isinstance(loaded, ec.EllipticCurvePublicKey) or not isinstance(loaded.curve, ec.SECP256R1):
                raise ValueError("the Apple team key must be a P-256 (ES256) public key")
            public_key = loaded
        elif apple_team_id or apple_key_id or apple_public_key:
            raise ValueError("apple_* options only apply to Apple clients")
        if kakao_admin_key is not None and provider != "kakao":
            raise ValueError("kakao_admin_key only applies to Kakao clients")
        client = _Client(
            client_id=client_id,
            client_secret=client_secret,
            redirect_uris=tuple(redirect_uris),
            auth_methods=frozenset(token_auth_methods) if token_auth_methods is not None else spec.auth_methods,
            apple_team_id=apple_team_id,
            apple_key_id=apple_key_id,
            apple_public_key=public_key,
            kakao_admin_key=kakao_admin_key,
        )
        with self._lock:
            self._providers[provider].clients[client_id] = client

    def add_user(
        self,
        provider: str,
        *,
        subject: str,
        email: str | None = None,
        email_verified: bool = True,
        nickname: str | None = None,
        **extra: Any,
    ) -> None:
        """Add (or replace) a provider account.

        `extra` is provider-specific: its entries become ID-token and userinfo claims (e.g. Google's
        `picture`, Apple's `real_user_status`) and fields of Naver's `response` object; for Kakao's
        /v2/user/me, `kakao_account={...}` and `properties={...}` are merged into those objects, and for
        Apple's first-login `user` form field, `first_name` / `last_name` give the name.
        """
        self._spec(provider)
        if provider == "kakao" and not subject.isdigit():
            # Kakao's user id (회원번호) is a number, sent as a JSON number by /v2/user/me.
            raise ValueError("Kakao subjects are numeric user ids, e.g. '4012345678'")
        user = _User(subject, email, email_verified, nickname, dict(extra), connected_at=self.now())
        with self._lock:
            self._providers[provider].users[subject] = user

    def login_as(self, provider: str, subject: str | None) -> None:
        """Who is signed in at the provider: every authorize request approves as them until changed.

        `None` means nobody completes the login, so authorize answers as for a user who cancelled.
        """
        self._spec(provider)
        with self._lock:
            state = self._providers[provider]
            if subject is not None and subject not in state.users:
                raise KeyError(f"no {provider} user {subject!r}; add_user first")
            state.login_subject = subject

    # ---- keys ----------------------------------------------------------------------------------------

    def kids(self, provider: str) -> list[str]:
        """The kids the JWKS currently serves, oldest first; the last one signs."""
        with self._lock:
            return [key.kid for key in self._oidc_state(provider).keys]

    def active_kid(self, provider: str) -> str:
        return self.kids(provider)[-1]

    def rotate_keys(self, provider: str) -> str:
        """Publish a new signing key and sign with it from now on; older keys stay published. Returns its kid."""
        key = _SigningKey.generate()
        with self._lock:
            self._oidc_state(provider).keys.append(key)
        return key.kid

    def drop_old_keys(self, provider: str) -> list[str]:
        """Unpublish every key but the active one; returns the dropped kids."""
        with self._lock:
            state = self._oidc_state(provider)
            dropped = [key.kid for key in state.keys[:-1]]
            del state.keys[:-1]
        return dropped

    # ---- clock ---------------------------------------------------------------------------------------

    def now(self) -> float:
        with self._lock:
            return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the IdP's clock (code and token expiry, minted iat/exp); the app's clock is untouched."""
        with self._lock:
            self._clock_offset += seconds

    # ---- direct minting for the app flow and attack tests -------------------------------------------

    def mint_id_token(
        self,
        provider: str,
        subject: str,
        *,
        audience: str,
        nonce: str | None = None,
        issuer: str | None = None,
        expires_in: int = 600,
        issued_at: int | None = None,
        kid: str | None = None,
        sign_with: str = "provider",
        extra_claims: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
    ) -> str:
        """An ID token as the provider would hand it to the mobile app.

        Claims follow the provider's real ID token for `subject` (email etc. if the user was added).
        `issuer` overrides iss; a negative `expires_in` makes it already expired; `kid` overrides the
        header kid (e.g. "unknown"); `sign_with="foreign"` signs with a key absent from the JWKS under a
        kid that is present; `sign_with="none"` yields an unsigned alg=none token; `sign_with="hs256"` is
        the algorithm-confusion attack, HMAC-signed with the provider's public key PEM as the secret. In
        `extra_claims`, a value of None removes that claim.
        """
        if sign_with not in ("provider", "foreign", "none", "hs256"):
            raise ValueError("sign_with must be 'provider', 'foreign', 'none' or 'hs256'")
        with self._lock:
            state = self._oidc_state(provider)
            iat = int(self.now()) if issued_at is None else issued_at
            claims = self._id_token_claims(
                provider,
                state.users.get(subject),
                subject,
                audience=audience,
                nonce=nonce,
                issued_at=iat,
                expires_at=iat + expires_in,
                auth_time=iat,
            )
            active = state.keys[-1]
        if issuer is not None:
            claims["iss"] = issuer
        for name, value in (extra_claims or {}).items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        header: dict[str, Any] = {"kid": kid if kid is not None else active.kid, **(headers or {})}
        if sign_with in ("none", "hs256"):
            # Built by hand: PyJWT rightly refuses to HMAC with a PEM key.
            full_header = {"alg": "none" if sign_with == "none" else "HS256", "typ": "JWT", **header}
            signing_input = ".".join(_b64url(json.dumps(part).encode()) for part in (full_header, claims))
            if sign_with == "none":
                return signing_input + "."
            pem = active.private_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            return f"{signing_input}.{_b64url(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())}"
        key = active if sign_with == "provider" else self._foreign_key
        return jwt.encode(claims, key.private_key, algorithm="RS256", headers=header)

    def mint_access_token(self, provider: str, subject: str, expires_in: int = 3600, *, scope: str = "") -> str:
        """A bearer token the provider's profile/userinfo endpoint accepts for `subject` (the app flow)."""
        self._spec(provider)
        with self._lock:
            if subject not in self._providers[provider].users:
                raise KeyError(f"no {provider} user {subject!r}; add_user first")
            return self._new_token(provider, "access", None, subject, scope, expires_in, int(self.now()))

    # ---- internals: state ------------------------------------------------------------------------------

    @staticmethod
    def _spec(provider: str) -> _Spec:
        try:
            return _SPECS[provider]
        except KeyError:
            raise ValueError(f"unknown provider {provider!r}; expected one of {PROVIDERS}") from None

    def _oidc_state(self, provider: str) -> _ProviderState:
        if not self._spec(provider).oidc:
            raise ValueError(f"{provider} issues no ID tokens and has no signing keys")
        return self._providers[provider]

    def _new_token(
        self,
        provider: str,
        kind: str,
        client_id: str | None,
        subject: str,
        scope: str,
        ttl: float | None,
        auth_time: int,
    ) -> str:
        value = secrets.token_urlsafe(32)
        expires_at = None if ttl is None else self.now() + ttl
        self._tokens[value] = _Token(provider, kind, client_id, subject, scope, expires_at, auth_time)
        return value

    def _access_token(self, provider: str, value: str | None) -> tuple[_Token | None, str]:
        """The live access token, or None with why: "missing", "unknown", "revoked" or "expired"."""
        if value is None:
            return None, "missing"
        with self._lock:
            token = self._tokens.get(value)
            if token is None or token.provider != provider or token.kind != "access":
                return None, "unknown"
            if token.revoked:
                return None, "revoked"
            if token.expires_at is not None and self.now() >= token.expires_at:
                return None, "expired"
            return token, ""

    def _revoke_subject(self, provider: str, subject: str, client_id: str | None = None) -> None:
        for token in self._tokens.values():
            same_user = token.provider == provider and token.subject == subject
            if same_user and (client_id is None or token.client_id in (client_id, None)):
                token.revoked = True

    def _id_token_claims(
        self,
        provider: str,
        user: _User | None,
        subject: str,
        *,
        audience: str,
        nonce: str | None,
        issued_at: int,
        expires_at: int,
        auth_time: int,
        access_token: str | None = None,
        code: str | None = None,
    ) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "iss": self.issuer(provider),
            "aud": audience,
            "sub": subject,
            "iat": issued_at,
            "exp": expires_at,
            "auth_time": auth_time,
        }
        if nonce is not None:
            claims["nonce"] = nonce
        if provider == "google":
            claims["azp"] = audience
        if provider == "apple":
            claims["nonce_supported"] = True
        if user is not None:
            claims.update(self._profile_claims(provider, user))
        if access_token is not None and provider in ("google", "apple"):
            claims["at_hash"] = _half_hash(access_token)
        if code is not None:
            claims["c_hash"] = _half_hash(code)
        return claims

    @staticmethod
    def _profile_claims(provider: str, user: _User) -> dict[str, Any]:
        """The user's identity claims as this provider puts them in ID tokens and OIDC userinfo."""
        claims: dict[str, Any] = {}
        if provider == "google":
            if user.email is not None:
                claims.update(email=user.email, email_verified=user.email_verified)
            if user.nickname is not None:
                claims["name"] = user.nickname
        elif provider == "apple":
            if user.email is not None:
                # Apple sends these as strings ("true"), sometimes as booleans; the strings are the trap.
                claims["email"] = user.email
                claims["email_verified"] = "true" if user.email_verified else "false"
                claims["is_private_email"] = "true" if user.email.endswith(_APPLE_RELAY_DOMAIN) else "false"
        elif provider == "kakao":
            if user.nickname is not None:
                claims["nickname"] = user.nickname
            # Kakao hands out only a valid, verified email in the ID token.
            if user.email is not None and user.email_verified:
                claims["email"] = user.email
        claims.update({name: value for name, value in user.extra.items() if name not in _NON_CLAIM_EXTRAS})
        return claims

    # ---- internals: HTTP ---------------------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        def bind(
            handler: Callable[[str, Request], Awaitable[Response]], provider: str
        ) -> Callable[[Request], Awaitable[Response]]:
            async def endpoint(request: Request) -> Response:
                return await handler(provider, request)

            return endpoint

        routes: list[Route] = []
        for provider, spec in _SPECS.items():
            root = f"/{provider}"
            authorize_methods = ["GET", "POST"] if provider in ("apple", "naver") else ["GET"]
            token_methods = ["GET", "POST"] if provider == "naver" else ["POST"]
            routes.append(Route(root + spec.authorize_path, bind(self._authorize, provider), methods=authorize_methods))
            routes.append(Route(root + spec.token_path, bind(self._token, provider), methods=token_methods))
            if spec.oidc:
                discovery = bind(self._discovery, provider)
                routes.append(Route(f"{root}/.well-known/openid-configuration", discovery, methods=["GET"]))
                routes.append(Route(f"{root}{spec.jwks_path}", bind(self._jwks, provider), methods=["GET"]))
        routes += [
            Route("/google/v1/userinfo", bind(self._google_userinfo, "google"), methods=["GET", "POST"]),
            Route("/google/revoke", bind(self._google_revoke, "google"), methods=["POST"]),
            Route("/apple/auth/revoke", bind(self._apple_revoke, "apple"), methods=["POST"]),
            Route("/kakao/v2/user/me", bind(self._kakao_me, "kakao"), methods=["GET", "POST"]),
            Route("/kakao/v1/oidc/userinfo", bind(self._kakao_oidc_userinfo, "kakao"), methods=["GET", "POST"]),
            Route("/kakao/v1/user/unlink", bind(self._kakao_unlink, "kakao"), methods=["POST"]),
            Route("/naver/v1/nid/me", bind(self._naver_me, "naver"), methods=["GET"]),
        ]
        return Starlette(routes=routes)

    @staticmethod
    async def _params(request: Request, *, include_query: bool) -> dict[str, str]:
        """Form fields (urlencoded; parsed by hand so no multipart dependency), plus query if asked."""
        pairs: list[tuple[str, str]] = list(request.query_params.multi_items()) if include_query else []
        if request.method == "POST":
            body = (await request.body()).decode("utf-8", errors="replace")
            pairs += parse_qsl(body, keep_blank_values=True)
        params: dict[str, str] = {}
        for name, value in pairs:
            if name in params:
                # RFC 6749 §3.1: a parameter sent twice makes the request invalid.
                raise _TokenError("invalid_request", f"parameter {name!r} was sent more than once")
            params[name] = value
        return params

    async def _discovery(self, provider: str, request: Request) -> Response:
        urls = self.endpoints(provider)
        document: dict[str, Any] = {
            "issuer": urls["issuer"],
            "authorization_endpoint": urls["authorize_url"],
            "token_endpoint": urls["token_url"],
            "jwks_uri": urls["jwks_url"],
            "response_types_supported": ["code"],
            "subject_types_supported": ["pairwise" if provider == "apple" else "public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": sorted(_SPECS[provider].auth_methods),
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "response_modes_supported": sorted(_SPECS[provider].response_modes),
        }
        if provider == "google":
            document.update(
                userinfo_endpoint=urls["userinfo_url"],
                revocation_endpoint=urls["revoke_url"],
                scopes_supported=["openid", "email", "profile"],
                claims_supported=["aud", "email", "email_verified", "exp", "iat", "iss", "name", "picture", "sub"],
            )
        elif provider == "apple":
            document.update(
                revocation_endpoint=urls["revoke_url"],
                response_types_supported=["code", "code id_token"],
                scopes_supported=["openid", "email", "name"],
                claims_supported=_APPLE_CLAIMS.split(),
            )
        else:
            # Kakao's OIDC userinfo is /v1/oidc/userinfo; the richer /v2/user/me is what endpoints() lists.
            document.update(
                userinfo_endpoint=f"{self.issuer('kakao')}/v1/oidc/userinfo",
                scopes_supported=["openid", "profile_nickname", "profile_image", "account_email"],
                claims_supported=_KAKAO_CLAIMS.split(),
            )
        return JSONResponse(document)

    async def _jwks(self, provider: str, request: Request) -> Response:
        with self._lock:
            keys = [key.public_jwk() for key in self._providers[provider].keys]
        # Real JWKS endpoints are cacheable; the header lets app-side caching honour max-age.
        return JSONResponse({"keys": keys}, headers={"Cache-Control": "public, max-age=3600"})

    # -- authorize

    async def _authorize(self, provider: str, request: Request) -> Response:
        spec = _SPECS[provider]
        try:
            params = await self._params(request, include_query=True)
        except _TokenError as error:
            return self._authorize_page_error(provider, error.error, error.description, kakao_code="KOE001")
        with self._lock:
            state = self._providers[provider]
            client = state.clients.get(params.get("client_id", ""))
            if client is None:
                return self._authorize_page_error(provider, "invalid_client", "unknown client_id", kakao_code="KOE101")
            redirect_uri = params.get("redirect_uri", "")
            if redirect_uri not in client.redirect_uris:
                # Never redirect to an unregistered URI (RFC 6749 §4.1.2.1): that is an open redirector.
                return self._authorize_page_error(
                    provider, "invalid_request", "redirect_uri is not registered for this client", kakao_code="KOE006"
                )
            response_mode = params.get("response_mode", "query")
            oauth_state = params.get("state")

            def refuse(error: str, description: str) -> Response:
                fields = {"error": error, "error_description": description}
                if oauth_state:
                    fields["state"] = oauth_state
                mode = response_mode if response_mode in spec.response_modes else "query"
                return self._authorize_answer(redirect_uri, mode, fields)

            response_type = " ".join(sorted(params.get("response_type", "").split()))
            allowed_types = {"code", "code id_token"} if provider == "apple" else {"code"}
            if response_type not in allowed_types:
                return refuse("unsupported_response_type", f"response_type must be one of {sorted(allowed_types)}")
            if response_mode not in spec.response_modes:
                return refuse("invalid_request", f"response_mode {response_mode!r} is not supported here")
            scope = params.get("scope", "")
            scopes = set(scope.split())
            wants_post = bool(scopes & {"name", "email"}) or "id_token" in response_type
            if provider == "apple" and wants_post and response_mode != "form_post":
                return refuse("invalid_request", "response_mode must be form_post when name or email is requested")
            if not oauth_state:
                return refuse("invalid_request", "state is required")
            challenge = params.get("code_challenge")
            if not challenge:
                return refuse("invalid_request", "code_challenge is required (PKCE)")
            if params.get("code_challenge_method") != "S256":
                return refuse("invalid_request", "code_challenge_method must be S256")
            if not _PKCE_S256_CHALLENGE.fullmatch(challenge):
                return refuse("invalid_request", "code_challenge must be a base64url SHA-256 digest (43 characters)")
            subject = state.login_subject
            if subject is None:
                if provider == "apple":
                    return refuse("user_cancelled_authorize", "the user cancelled the authorization")
                return refuse("access_denied", "User denied access")
            now = self.now()
            code = secrets.token_urlsafe(32)
            nonce = params.get("nonce")
            state.codes[code] = _Code(
                client_id=client.client_id,
                redirect_uri=redirect_uri,
                subject=subject,
                code_challenge=challenge,
                nonce=nonce,
                scope=scope,
                expires_at=now + self._code_ttl,
                auth_time=int(now),
            )
            fields = {"code": code, "state": oauth_state}
            if provider == "google":
                fields["scope"] = scope
            user = state.users[subject]
            if "id_token" in response_type:
                claims = self._id_token_claims(
                    provider,
                    user,
                    subject,
                    audience=client.client_id,
                    nonce=nonce,
                    issued_at=int(now),
                    expires_at=int(now) + 600,
                    auth_time=int(now),
                    code=code,
                )
                fields["id_token"] = self._sign(provider, claims)
            if provider == "apple" and scopes & {"name", "email"}:
                seen = (client.client_id, subject)
                if seen not in state.apple_user_sent:
                    state.apple_user_sent.add(seen)
                    fields["user"] = json.dumps(self._apple_user_field(user, scopes), ensure_ascii=False)
        return self._authorize_answer(redirect_uri, response_mode, fields)

    @staticmethod
    def _apple_user_field(user: _User, scopes: set[str]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if "name" in scopes:
            first = user.extra.get("first_name", user.nickname or "")
            data["name"] = {"firstName": first, "lastName": user.extra.get("last_name", "")}
        if "email" in scopes and user.email is not None:
            data["email"] = user.email
        return data

    @staticmethod
    def _authorize_answer(redirect_uri: str, response_mode: str, fields: Mapping[str, str]) -> Response:
        if response_mode != "form_post":
            return RedirectResponse(_append_query(redirect_uri, fields), status_code=302)
        inputs = "\n".join(
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}"/>'
            for name, value in fields.items()
        )
        page = (
            "<!DOCTYPE html>\n<html><head><title>Sign in with Apple</title></head>"
            '<body onload="document.forms[0].submit()">\n'
            f'<form method="post" action="{html.escape(redirect_uri)}">\n{inputs}\n</form>\n</body></html>\n'
        )
        return HTMLResponse(page)

    @staticmethod
    def _authorize_page_error(
        provider: str, error: str, description: str, *, kakao_code: str | None = None
    ) -> Response:
        # Stands in for the provider's own error page: the user stays at the provider.
        body: dict[str, Any] = {"error": error, "error_description": description}
        if provider == "kakao" and kakao_code:
            body["error_code"] = kakao_code
        return JSONResponse(body, status_code=400)

    def _sign(self, provider: str, claims: Mapping[str, Any]) -> str:
        key = self._providers[provider].keys[-1]
        return jwt.encode(dict(claims), key.private_key, algorithm="RS256", headers={"kid": key.kid})

    # -- token

    def _token_error_response(self, provider: str, error: _TokenError) -> Response:
        body: dict[str, Any] = {"error": error.error, "error_description": error.description}
        if provider == "kakao" and error.kakao_code:
            body["error_code"] = error.kakao_code
        if provider == "naver":
            # Naver reports token-endpoint failures in a 200 body; clients must look for "error".
            status = 200
        elif error.error == "invalid_client" and provider != "apple":
            status = 401
        else:
            status = 400
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def _token(self, provider: str, request: Request) -> Response:
        try:
            # Naver documents its token endpoint as GET/POST with query parameters.
            params = await self._params(request, include_query=provider == "naver")
            with self._lock:
                client = self._authenticate_client(provider, request, params)
                grant_type = params.get("grant_type", "")
                if grant_type == "authorization_code":
                    body = self._grant_code(provider, client, params)
                elif grant_type == "refresh_token":
                    body = self._grant_refresh(provider, client, params)
                elif grant_type == "delete" and provider == "naver":
                    body = self._naver_delete(client, params)
                else:
                    raise _TokenError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
        except _TokenError as error:
            return self._token_error_response(provider, error)
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _authenticate_client(self, provider: str, request: Request, params: Mapping[str, str]) -> _Client:
        basic: tuple[str, str] | None = None
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
                raw_id, separator, raw_secret = decoded.partition(":")
                if not separator:
                    raise ValueError("no colon")
            except ValueError:
                raise _TokenError("invalid_client", "malformed Basic credentials", kakao_code="KOE010") from None
            # RFC 6749 §2.3.1: both halves are form-urlencoded before base64.
            basic = (unquote_plus(raw_id), unquote_plus(raw_secret))
        form_id, form_secret = params.get("client_id"), params.get("client_secret")
        if basic is not None:
            if form_secret is not None or (form_id is not None and form_id != basic[0]):
                raise _TokenError("invalid_request", "client credentials sent both in the header and in the body")
            method, client_id = "client_secret_basic", basic[0]
            secret: str | None = basic[1]
        else:
            method = "client_secret_post" if form_secret is not None else "none"
            client_id, secret = form_id or "", form_secret
        client = self._providers[provider].clients.get(client_id)
        if client is None:
            raise _TokenError("invalid_client", "unknown client_id", kakao_code="KOE101")
        if client.client_secret is None and client.apple_public_key is None:
            if secret:
                raise _TokenError("invalid_client", "this client has no client secret", kakao_code="KOE010")
            return client
        if method not in client.auth_methods:
            raise _TokenError(
                "invalid_client",
                f"{method} is not accepted here; use {' or '.join(sorted(client.auth_methods))}",
                kakao_code="KOE010",
            )
        if client.apple_public_key is not None:
            self._verify_apple_client_secret(client, secret or "")
        elif not secrets.compare_digest((secret or "").encode(), (client.client_secret or "").encode()):
            raise _TokenError("invalid_client", "Bad client credentials", kakao_code="KOE010")
        return client

    def _verify_apple_client_secret(self, client: _Client, assertion: str) -> None:
        def refuse(why: str) -> _TokenError:
            return _TokenError("invalid_client", f"client_secret JWT rejected: {why}")

        try:
            header = jwt.get_unverified_header(assertion)
            if header.get("alg") != "ES256":
                raise refuse("alg must be ES256")
            if header.get("kid") != client.apple_key_id:
                raise refuse("kid is not this client's key id")
            assert client.apple_public_key is not None
            # Expiry is judged by our clock below, so advance_clock applies to client secrets too.
            claims = jwt.decode(
                assertion,
                client.apple_public_key,
                algorithms=["ES256"],
                audience=self.issuer("apple"),
                issuer=client.apple_team_id,
                options={"require": ["iss", "sub", "aud", "iat", "exp"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as error:
            raise refuse(str(error)) from None
        if claims["sub"] != client.client_id:
            raise refuse("sub must be the client_id")
        now = self.now()
        if not isinstance(claims["exp"], int | float) or not isinstance(claims["iat"], int | float):
            raise refuse("iat and exp must be numbers")
        if claims["exp"] <= now:
            raise refuse("expired")
        if claims["exp"] - claims["iat"] > APPLE_CLIENT_SECRET_MAX_LIFETIME:
            raise refuse("lifetime exceeds six months")

    def _grant_code(self, provider: str, client: _Client, params: Mapping[str, str]) -> dict[str, Any]:
        state = self._providers[provider]
        value = params.get("code")
        if not value:
            raise _TokenError("invalid_request", "code is required", kakao_code="KOE320")
        code = state.codes.get(value)
        not_found = f"authorization code not found for code={value}"
        if code is None or code.client_id != client.client_id:
            raise _TokenError("invalid_grant", not_found, kakao_code="KOE320")
        if code.used:
            # RFC 6749 §4.1.2: a replayed code should also cost the tokens it already bought.
            for issued in code.issued:
                self._tokens[issued].revoked = True
            raise _TokenError("invalid_grant", not_found, kakao_code="KOE320")
        code.used = True
        if self.now() >= code.expires_at:
            raise _TokenError("invalid_grant", "authorization code expired", kakao_code="KOE320")
        redirect_uri = params.get("redirect_uri")
        # Naver's token request carries no redirect_uri; everywhere else it must repeat the authorize one.
        if (provider != "naver" or redirect_uri is not None) and redirect_uri != code.redirect_uri:
            raise _TokenError("invalid_grant", "redirect_uri mismatch", kakao_code="KOE303")
        verifier = params.get("code_verifier")
        if not verifier:
            raise _TokenError("invalid_request", "code_verifier is required (PKCE)")
        if not _PKCE_VERIFIER.fullmatch(verifier) or not secrets.compare_digest(_s256(verifier), code.code_challenge):
            raise _TokenError("invalid_grant", "code_verifier does not match the code_challenge")
        body = self._issue(provider, client, code.subject, code.scope, code.auth_time, nonce=code.nonce, refresh=True)
        code.issued += [body["access_token"], body["refresh_token"]]
        return body

    def _grant_refresh(self, provider: str, client: _Client, params: Mapping[str, str]) -> dict[str, Any]:
        token = self._tokens.get(params.get("refresh_token", ""))
        if (
            token is None
            or token.kind != "refresh"
            or token.provider != provider
            or token.client_id != client.client_id
            or token.revoked
        ):
            raise _TokenError("invalid_grant", "expired_or_invalid_refresh_token", kakao_code="KOE322")
        return self._issue(provider, client, token.subject, token.scope, token.auth_time, nonce=None, refresh=False)

    def _issue(
        self,
        provider: str,
        client: _Client,
        subject: str,
        scope: str,
        auth_time: int,
        *,
        nonce: str | None,
        refresh: bool,
    ) -> dict[str, Any]:
        spec = _SPECS[provider]
        access = self._new_token(provider, "access", client.client_id, subject, scope, spec.access_ttl, auth_time)
        # Naver sends expires_in as a string; code that does int arithmetic on it unguarded breaks there.
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": spec.token_type,
            "expires_in": str(spec.access_ttl) if provider == "naver" else spec.access_ttl,
        }
        if refresh:
            body["refresh_token"] = self._new_token(
                provider, "refresh", client.client_id, subject, scope, None, auth_time
            )
            if provider == "kakao":
                body["refresh_token_expires_in"] = 5183999
        if provider in ("google", "kakao") and scope:
            body["scope"] = scope
        # Google and Kakao issue an ID token only for the openid scope; Apple always does.
        if spec.oidc and (provider == "apple" or "openid" in scope.split()):
            now = int(self.now())
            claims = self._id_token_claims(
                provider,
                self._providers[provider].users.get(subject),
                subject,
                audience=client.client_id,
                nonce=nonce,
                issued_at=now,
                expires_at=now + 3600,
                auth_time=auth_time,
                access_token=access,
            )
            body["id_token"] = self._sign(provider, claims)
        return body

    def _naver_delete(self, client: _Client, params: Mapping[str, str]) -> dict[str, Any]:
        value = params.get("access_token", "")
        token = self._tokens.get(value)
        if token is None or token.provider != "naver" or token.client_id not in (client.client_id, None):
            raise _TokenError("invalid_request", "no valid data in session")
        self._revoke_subject("naver", token.subject, client.client_id)
        self.revoked.append(Revocation("naver", "delete", client.client_id, token.subject, value, "access_token"))
        return {"access_token": value, "result": "success"}

    # -- profile / userinfo

    async def _google_userinfo(self, provider: str, request: Request) -> Response:
        token, _ = self._access_token(provider, _bearer(request))
        if token is None:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "Invalid Credentials"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'},
            )
        with self._lock:
            user = self._providers[provider].users[token.subject]
            return JSONResponse({"sub": user.subject, **self._profile_claims(provider, user)})

    @staticmethod
    def _kakao_unauthorized(reason: str) -> Response:
        message = "this access token is already expired" if reason == "expired" else "this access token does not exist"
        return JSONResponse({"msg": message, "code": -401}, status_code=401)

    async def _kakao_me(self, provider: str, request: Request) -> Response:
        token, reason = self._access_token(provider, _bearer(request))
        if token is None:
            return self._kakao_unauthorized(reason)
        with self._lock:
            user = self._providers[provider].users[token.subject]
            profile: dict[str, Any] = {"nickname": user.nickname or "", "is_default_image": "picture" not in user.extra}
            if "picture" in user.extra:
                profile.update(profile_image_url=user.extra["picture"], thumbnail_image_url=user.extra["picture"])
            account: dict[str, Any] = {"profile_nickname_needs_agreement": False, "profile": profile}
            if user.email is not None:
                account.update(
                    has_email=True,
                    email_needs_agreement=False,
                    is_email_valid=True,
                    is_email_verified=user.email_verified,
                    email=user.email,
                )
            else:
                account.update(has_email=False)
            account.update(user.extra.get("kakao_account", {}))
            properties = {"nickname": user.nickname or "", **user.extra.get("properties", {})}
            body = {
                "id": int(user.subject),
                "connected_at": datetime.fromtimestamp(user.connected_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "properties": properties,
                "kakao_account": account,
            }
        return JSONResponse(body)

    async def _kakao_oidc_userinfo(self, provider: str, request: Request) -> Response:
        token, reason = self._access_token(provider, _bearer(request))
        if token is None:
            return self._kakao_unauthorized(reason)
        with self._lock:
            user = self._providers[provider].users[token.subject]
            body: dict[str, Any] = {"sub": user.subject, **self._profile_claims(provider, user)}
            if user.email is not None:
                body.update(email=user.email, email_verified=user.email_verified)
        return JSONResponse(body)

    async def _naver_me(self, provider: str, request: Request) -> Response:
        token, _ = self._access_token(provider, _bearer(request))
        if token is None:
            return JSONResponse(_NAVER_AUTH_FAILED, status_code=401)
        with self._lock:
            user = self._providers[provider].users[token.subject]
            response: dict[str, Any] = {"id": user.subject}
            if user.nickname is not None:
                response["nickname"] = user.nickname
            if user.email is not None:
                response["email"] = user.email
            response.update(user.extra)
        return JSONResponse({"resultcode": "00", "message": "success", "response": response})

    # -- revoke / unlink

    async def _apple_revoke(self, provider: str, request: Request) -> Response:
        try:
            params = await self._params(request, include_query=False)
            with self._lock:
                client = self._authenticate_client(provider, request, params)
                value = params.get("token", "")
                token = self._tokens.get(value)
                subject = None
                if token is not None and token.provider == provider and token.client_id == client.client_id:
                    # Revoking either token ends the user's authorization of this client.
                    subject = token.subject
                    self._revoke_subject(provider, subject, client.client_id)
                hint = params.get("token_type_hint")
                self.revoked.append(Revocation(provider, "revoke", client.client_id, subject, value, hint))
        except _TokenError as error:
            return self._token_error_response(provider, error)
        # Apple answers 200 with an empty body, whether or not it knew the token.
        return Response(status_code=200)

    async def _google_revoke(self, provider: str, request: Request) -> Response:
        try:
            params = await self._params(request, include_query=True)
        except _TokenError as error:
            return self._token_error_response(provider, error)
        value = params.get("token", "")
        with self._lock:
            token = self._tokens.get(value)
            if token is None or token.provider != provider or token.revoked:
                return JSONResponse(
                    {"error": "invalid_token", "error_description": "Token expired or revoked"}, status_code=400
                )
            self._revoke_subject(provider, token.subject, token.client_id)
            hint = params.get("token_type_hint")
            self.revoked.append(Revocation(provider, "revoke", token.client_id, token.subject, value, hint))
        return JSONResponse({})

    async def _kakao_unlink(self, provider: str, request: Request) -> Response:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        if scheme == "KakaoAK":
            # Server-side unlink with the app's admin key, for when no user token is at hand (account deletion).
            try:
                params = await self._params(request, include_query=True)
            except _TokenError:
                return JSONResponse({"msg": "invalid parameters", "code": -2}, status_code=400)
            with self._lock:
                clients = self._providers[provider].clients.values()
                client = next((c for c in clients if c.kakao_admin_key and c.kakao_admin_key == credential), None)
                if client is None:
                    return JSONResponse({"msg": "wrong admin key", "code": -401}, status_code=401)
                subject = params.get("target_id", "")
                if params.get("target_id_type") != "user_id" or subject not in self._providers[provider].users:
                    return JSONResponse({"msg": "invalid target_id", "code": -101}, status_code=400)
                self._revoke_subject(provider, subject)
                self.revoked.append(Revocation(provider, "unlink", client.client_id, subject, None, "admin_key"))
            return JSONResponse({"id": int(subject)})
        value = _bearer(request)
        token, reason = self._access_token(provider, value)
        if token is None:
            return self._kakao_unauthorized(reason)
        with self._lock:
            self._revoke_subject(provider, token.subject)
            self.revoked.append(Revocation(provider, "unlink", token.client_id, token.subject, value, "access_token"))
        return JSONResponse({"id": int(token.subject)})
