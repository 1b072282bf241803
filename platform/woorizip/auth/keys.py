"""Where the access-token signing keys come from: PEM files named in settings, or one generated key.

On the embedded default the first process that needs a key writes `<data dir>/keys/<kid>.pem`
under a file lock, so the api, the worker and the CLI of one installation sign and verify with the
same key. In production `WOORIZIP_AUTH_KEY_FILES` lists PEM files: the first signs, every one
verifies (rotation: put the new key first, keep the old one listed until its tokens expired).
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from filelock import FileLock

from woorizip.auth.tokens import SigningKey, TokenService
from woorizip.settings import Settings


def _read(path: Path) -> SigningKey:
    return SigningKey.from_pem(path.stem, path.read_bytes())


def _embedded_key(folder: Path) -> SigningKey:
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".lock")):
        existing = sorted(folder.glob("*.pem"))
        if existing:
            return _read(existing[0])
        key = SigningKey.generate()
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path = folder / f"{key.kid}.pem"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        return key


def build_token_service(settings: Settings) -> TokenService:
    if settings.auth_key_files:
        keys = [_read(Path(path)) for path in settings.auth_key_files]
    else:
        keys = [_embedded_key(settings.data_dir / "keys")]
    return TokenService(
        active=keys[0], retired=tuple(keys[1:]), issuer=settings.auth_issuer, audience=settings.auth_audience
    )
