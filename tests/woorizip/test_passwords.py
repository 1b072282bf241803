"""Password hashing and the one password rule: Korean passphrases, upgrades, legacy bcrypt, common passwords."""

from __future__ import annotations

import bcrypt
import pytest

from woorizip.auth.passwords import MAX_LENGTH, MIN_LENGTH, PasswordHasher, PasswordPolicyError, check_policy

KOREAN_PASSPHRASE = "우리집" * 21 + "펫"  # 64 Hangul characters, 192 bytes in UTF-8
SHORT_KOREAN_PASSPHRASE = "우리가족은주말마다등산해"  # 12 Hangul characters
EMAIL = "Mom.Kim@Example.com"


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
    old = PasswordHasher(time_cost=1, memory_cost_kib=8_192).hash("가족사랑해요1234!!")
    result = hasher.verify("가족사랑해요1234!!", old)
    assert result.ok
    assert result.new_hash is not None and result.new_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hasher.verify("가족사랑해요1234!!", result.new_hash).new_hash is None


def test_legacy_bcrypt_from_the_old_service_verifies_and_upgrades(hasher: PasswordHasher) -> None:
    # The Node.js service hashed with bcrypt, which kept only the first 72 bytes.
    legacy = bcrypt.hashpw(KOREAN_PASSPHRASE.encode()[:72], bcrypt.gensalt(rounds=4)).decode()
    result = hasher.verify(KOREAN_PASSPHRASE, legacy)
    assert result.ok
    assert result.new_hash is not None and result.new_hash.startswith("$argon2id$")
    assert hasher.verify(KOREAN_PASSPHRASE, result.new_hash).ok
    assert not hasher.verify("다른 비밀번호입니다", legacy).ok


def test_the_rule_is_twelve_to_1024_characters() -> None:
    assert (MIN_LENGTH, MAX_LENGTH) == (12, 1024)


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("", "at least 12"),
        ("12345678", "at least 12"),
        ("가족사랑해요1234!", "at least 12"),  # 11 characters
        ("x" * 1025, "at most 1024"),
        ("가" * 1025, "at most 1024"),
        (" " * 12, "only spaces"),
        ("mom.kim@example.com", "e-mail"),
        ("MOM.KIM@EXAMPLE.COM", "e-mail"),
        ("mom.kim@example.com ", "e-mail"),
    ],
)
def test_policy_refuses(password: str, why: str) -> None:
    with pytest.raises(PasswordPolicyError, match=why) as caught:
        check_policy(password, email=EMAIL)
    if password.strip():
        assert password not in str(caught.value)


def test_the_local_part_of_the_e_mail_is_refused() -> None:
    with pytest.raises(PasswordPolicyError, match="e-mail"):
        check_policy("dad.lee.1975", email="Dad.Lee.1975@example.kr")
    check_policy("dad.lee.1975", email="someone.else@example.kr")  # fine for another account


@pytest.mark.parametrize(
    "password",
    ["password1234", "PASSWORD1234", "Password1234", "qwerty123456", "Qwerty 123456", "1q2w3e4r5t6y",
     "ｐａｓｓｗｏｒｄ１２３４", "p a s s w o r d 1 2"],
)  # fmt: skip
def test_common_passwords_are_refused_whatever_their_case_and_spacing(password: str) -> None:
    with pytest.raises(PasswordPolicyError, match="common") as caught:
        check_policy(password)
    assert password not in str(caught.value)


@pytest.mark.parametrize("password", [KOREAN_PASSPHRASE, SHORT_KOREAN_PASSPHRASE, "correct horse battery", "가" * 1024])
def test_long_and_korean_passphrases_pass(password: str) -> None:
    assert len(SHORT_KOREAN_PASSPHRASE) == MIN_LENGTH
    check_policy(password, email=EMAIL)


def test_hash_applies_the_policy_with_and_without_the_e_mail(hasher: PasswordHasher) -> None:
    with pytest.raises(PasswordPolicyError):
        hasher.hash("password1234")
    with pytest.raises(PasswordPolicyError):
        hasher.hash("mom.kim@example.com", email=EMAIL)
    assert hasher.hash("mom.kim@example.com").startswith("$argon2id$")  # without the e-mail it cannot know
    stored = hasher.hash(SHORT_KOREAN_PASSPHRASE, email=EMAIL)
    assert hasher.verify(SHORT_KOREAN_PASSPHRASE, stored).ok
