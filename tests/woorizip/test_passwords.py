"""Password hashing: Korean passphrases, parameter upgrades, legacy bcrypt from the old service."""

from __future__ import annotations

import bcrypt
import pytest

from woorizip.auth.passwords import PasswordHasher, PasswordPolicyError

KOREAN_PASSPHRASE = "우리집" * 21 + "펫"  # 64 Hangul characters, 192 bytes in UTF-8


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher()


def test_long_korean_passphrase_round_trips(hasher: PasswordHasher) -> None:
    assert len(KOREAN_PASSPHRASE) == 64 and len(KOREAN_PASSPHRASE.encode()) == 192
    stored = hasher.hash(KOREAN_PASSPHRASE)
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hasher.verify(KOREAN_PASSPHRASE, stored).ok
    # Beyond bcrypt's 72 bytes every character still counts.
    assert not hasher.verify(KOREAN_PASSPHRASE[:-1] + "개", stored).ok


def test_wrong_password_and_garbage_hash_fail_quietly(hasher: PasswordHasher) -> None:
    stored = hasher.hash("correct horse battery")
    assert hasher.verify("wrong horse battery", stored) == hasher.verify("x" * 9, stored)
    assert not hasher.verify("correct horse battery", stored).new_hash
    assert not hasher.verify("correct horse battery", "$argon2id$not-a-hash").ok


def test_outdated_parameters_are_rehashed_on_login(hasher: PasswordHasher) -> None:
    old = PasswordHasher(time_cost=1, memory_cost_kib=8_192).hash("가족사랑해요1234")
    result = hasher.verify("가족사랑해요1234", old)
    assert result.ok
    assert result.new_hash is not None and result.new_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hasher.verify("가족사랑해요1234", result.new_hash).new_hash is None


def test_legacy_bcrypt_from_the_old_service_verifies_and_upgrades(hasher: PasswordHasher) -> None:
    # The Node.js service hashed with bcrypt, which kept only the first 72 bytes.
    legacy = bcrypt.hashpw(KOREAN_PASSPHRASE.encode()[:72], bcrypt.gensalt(rounds=4)).decode()
    result = hasher.verify(KOREAN_PASSPHRASE, legacy)
    assert result.ok
    assert result.new_hash is not None and result.new_hash.startswith("$argon2id$")
    assert hasher.verify(KOREAN_PASSPHRASE, result.new_hash).ok
    assert not hasher.verify("다른 비밀번호입니다", legacy).ok


@pytest.mark.parametrize("password", ["short", "", "가" * 257])
def test_policy_refuses_bad_lengths(hasher: PasswordHasher, password: str) -> None:
    with pytest.raises(PasswordPolicyError):
        hasher.hash(password)
