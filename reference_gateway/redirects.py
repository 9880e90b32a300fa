"""Which post-login redirects the gateway accepts, and which get the token in the URL."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from reference_gateway.settings import Settings

CLI_LISTENER = "http://127.0.0.1:3587/callback"
"""Where Hoop's CLI waits for the token; the default redirect."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(parts: SplitResult) -> tuple[str, str | None, int | None]:
    return parts.scheme, parts.hostname, parts.port or _DEFAULT_PORTS.get(parts.scheme)


def redirect_allowed(redirect: str, settings: Settings) -> bool:
    """Whether ``redirect`` is on API_URL's origin (scheme, host and port) or is the CLI listener."""
    if settings.mutant("no_redirect_check") or redirect == CLI_LISTENER:
        return True
    api = urlsplit(settings.api_url)
    if settings.mutant("redirect_substring_match"):
        return (api.hostname or "") in redirect
    if any(char == "\\" or ord(char) <= 0x20 or ord(char) == 0x7F for char in redirect):
        return False
    try:
        parts = urlsplit(redirect)
        origin = _origin(parts)
    except ValueError:
        return False
    if parts.username is not None or parts.password is not None:
        return False
    if settings.mutant("redirect_host_only"):
        return parts.hostname == api.hostname
    return origin == _origin(api)


def token_in_url(redirect: str, settings: Settings) -> bool:
    """Whether the token is handed over as ``?token=`` (CLI listener, or ``URL_TOKEN_EXCHANGE=force``)."""
    if settings.mutant("token_in_url"):
        return True
    if settings.force_url_token:
        return True
    return redirect == CLI_LISTENER and not settings.mutant("no_cli_token_handover")
