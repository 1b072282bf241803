"""Test support: loopback stand-ins for third-party services, served over real HTTP."""
