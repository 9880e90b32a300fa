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


class UserInactive(LoginRefused):
    """The login is refused because the gateway user ``user_id`` is inactive.

    ``session_token`` is set only by the ``session_before_inactive_check`` mutant: the token it stored and sends
    to the browser anyway.
    """

    def __init__(self, user_id: str) -> None:
        super().__init__("the user is inactive")
        self.user_id = user_id
        self.session_token: str | None = None
