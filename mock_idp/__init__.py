"""A mock JumpCloud: OIDC provider, the JumpCloud admin API subset, and a control API for tests."""

from mock_idp.client import MockIdp, MockIdpApiError
from mock_idp.settings import AppSettings, MockIdpSettings, SeedUser

__all__ = ["AppSettings", "MockIdp", "MockIdpApiError", "MockIdpSettings", "SeedUser"]
