"""docs/settings.md is generated from the Settings model and never shows a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from woorizip import settings_reference
from woorizip.settings import Settings, SocialSettings

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_docs_settings_md_is_the_generated_reference() -> None:
    assert DOC.read_text(encoding="utf-8") == settings_reference.render(), (
        f"docs/settings.md is out of date with woorizip.settings: run `{settings_reference.COMMAND}`"
    )


def test_every_setting_has_a_row_with_its_variable() -> None:
    text = settings_reference.render()
    for name in Settings.model_fields:
        if name != "social":
            assert f"| `WOORIZIP_{name.upper()}` |" in text
    for name in ("grant_encryption_key", "jwks_ttl_seconds", "http_timeout_seconds"):
        assert f"| `WOORIZIP_SOCIAL_{name.upper()}` |" in text
    assert "| `WOORIZIP_SOCIAL_<PROVIDER>__<FIELD>` |" in text
    assert "| `CLIENT_ID` | str |" in text and "| `PRIVATE_KEY` | secret | — | unset | — | — |" in text
    assert "| `WOORIZIP_MAX_MEMBERS_PER_FAMILY` | int, >= 1 | `16` |" in text


def test_secrets_are_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WOORIZIP_INTERNAL_API_TOKEN", "token-that-must-not-leak")
    monkeypatch.setenv("WOORIZIP_SOCIAL_GRANT_ENCRYPTION_KEY", "key-that-must-not-leak")
    text = settings_reference.render()
    assert "must-not-leak" not in text
    assert "| `WOORIZIP_INTERNAL_API_TOKEN` | secret | unset |" in text
    assert "| `WOORIZIP_SOCIAL_GRANT_ENCRYPTION_KEY` | secret | unset |" in text


def test_a_setting_without_description_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SocialSettings.model_fields["clock_leeway_seconds"], "description", None)
    with pytest.raises(ValueError, match="clock_leeway_seconds has no description"):
        settings_reference.render()
