"""The contract tests serve the real app with the same settings as the app shell's tests."""

from tests.woorizip.conftest import make_settings

__all__ = ["make_settings"]
