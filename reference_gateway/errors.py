"""The gateway's errors, in one hierarchy."""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


class ConfigError(GatewayError):
    """The configuration is invalid; the message names the variable at fault."""


class IdpError(GatewayError):
    """The IdP could not be reached, or answered something unusable."""


class TokenRejected(GatewayError):
    """A token (ID token or access token) failed validation; the message says why."""


class LoginRefused(GatewayError):
    """A login was refused after the state lookup; the message says why."""
