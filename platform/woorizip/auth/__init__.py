"""Accounts and sessions (issue 5: in progress — password hashing so far)."""
