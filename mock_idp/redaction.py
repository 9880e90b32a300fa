"""Redact secrets to a short hash, so evidence can compare values without holding them."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

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


def redact(value: str) -> str:
    """``<redacted:1a2b3c4d>``: the first 8 hex digits of the value's SHA-256."""
    return f"<redacted:{hashlib.sha256(value.encode()).hexdigest()[:8]}>"


def redact_authorization(value: str) -> str:
    """Keep the scheme of an Authorization header, redact its credentials."""
    scheme, _, credentials = value.partition(" ")
    return f"{scheme} {redact(credentials)}" if credentials else redact(value)


def redact_mapping(values: Mapping[str, str]) -> dict[str, str]:
    """A copy with every secret-named entry (case-insensitive) redacted."""
    redacted = {}
    for name, value in values.items():
        lowered = name.lower()
        if lowered == "authorization":
            redacted[name] = redact_authorization(value)
        elif lowered in SECRET_NAMES or lowered.startswith("totp"):
            redacted[name] = redact(value)
        else:
            redacted[name] = value
    return redacted
