"""Families, members, invitations and roles."""
