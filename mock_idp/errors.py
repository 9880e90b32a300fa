"""The mock's error hierarchy: each error knows the HTTP answer it becomes."""

from __future__ import annotations


class MockIdpError(Exception):
    """Base of every error the mock raises on purpose."""


class SettingsError(MockIdpError):
    """Bad settings: a flag, a settings file or a control-API app definition."""


class OAuthError(MockIdpError):
    """An OAuth 2.0 / OIDC error in Hydra's (fosite's) shape."""

    def __init__(self, error: str, description: str, *, hint: str = "", status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.hint = hint
        self.status = status

    def body(self) -> dict[str, object]:
        """The JSON body fosite sends."""
        body: dict[str, object] = {"error": self.error, "error_description": self.description}
        if self.hint:
            body["error_hint"] = self.hint
        body["status_code"] = self.status
        return body


class InvalidClient(OAuthError):
    """Client authentication failed (401)."""

    def __init__(self, hint: str = "") -> None:
        super().__init__(
            "invalid_client",
            "Client authentication failed (e.g., unknown client, no client authentication included, "
            "or unsupported authentication method).",
            hint=hint,
            status=401,
        )


class InvalidGrant(OAuthError):
    """A bad, used or expired grant (400)."""

    def __init__(self, hint: str) -> None:
        super().__init__(
            "invalid_grant",
            "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh "
            "token is invalid, expired, revoked, does not match the redirection URI used in the authorization "
            "request, or was issued to another client.",
            hint=hint,
        )


class InvalidRequest(OAuthError):
    """A malformed request (400)."""

    def __init__(self, hint: str) -> None:
        super().__init__(
            "invalid_request",
            "The request is missing a required parameter, includes an invalid parameter value, includes a "
            "parameter more than once, or is otherwise malformed.",
            hint=hint,
        )


class InvalidToken(OAuthError):
    """A bearer token that is bad, expired or revoked (401 at userinfo)."""

    def __init__(self, hint: str) -> None:
        super().__init__(
            "request_unauthorized",
            "The request could not be authorized. " + hint,
            status=401,
        )


class ApiError(MockIdpError):
    """A JumpCloud admin/control API error: ``{"message": ...}`` with a status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
