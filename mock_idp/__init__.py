"""A mock JumpCloud: OIDC provider, the JumpCloud admin API subset, and a control API for tests.

Tests steer it over HTTP with the suite's clients (``fixtures.idp``), never by importing its server.
"""

from mock_idp.settings import AppSettings, MockIdpSettings, SeedUser

__all__ = ["AppSettings", "MockIdpSettings", "SeedUser"]
