"""Redact secrets to a short hash, so evidence can compare values without holding them."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SECRET_NAMES = frozenset(
    {
        "access_token",
        "authorization",
        "client_secret",
        "code",
        "code_verifier",
        "cookie",
        "id_token",
        "id_token_hint",
        "password",
        "refresh_token",
        "set-cookie",
        "token",
        "totp",
        "x-api-key",
        "login_challenge",
    }
)
URL_HEADERS = frozenset({"referer", "location", "origin"})
"""Headers holding a URL whose query may carry a secret (a code, a token)."""


def redact(value: str) -> str:
    """``<redacted:1a2b3c4d>``: the first 8 hex digits of the value's SHA-256."""
    return f"<redacted:{hashlib.sha256(value.encode()).hexdigest()[:8]}>"


def redact_authorization(value: str) -> str:
    """Keep the scheme of an Authorization header, redact its credentials."""
    scheme, _, credentials = value.partition(" ")
    return f"{scheme} {redact(credentials)}" if credentials else redact(value)


def redact_url(value: str) -> str:
    """A URL with the secret-named parameters of its query redacted."""
    parts = urlsplit(value)
    if not parts.query:
        return value
    query = redact_mapping(dict(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit(parts._replace(query=urlencode(query, safe="<>:")))


def redact_mapping(values: Mapping[str, str]) -> dict[str, str]:
    """A copy with every secret-named entry (case-insensitive) redacted, and secrets in URL headers."""
    redacted = {}
    for name, value in values.items():
        lowered = name.lower()
        if lowered == "authorization":
            redacted[name] = redact_authorization(value)
        elif lowered in URL_HEADERS:
            redacted[name] = redact_url(value)
        elif lowered in SECRET_NAMES or lowered.startswith("totp"):
            redacted[name] = redact(value)
        else:
            redacted[name] = value
    return redacted
