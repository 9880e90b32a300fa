"""Redact secrets to a short hash, so evidence can compare values without holding them: the one redaction of the
project, used by the mock's journal and by the conformance plugin (``hoop_conformance``: its assertions, evidence,
transport errors and trace scrubbing). It imports nothing of either, so both can use it.

A secret becomes ``<redacted:1a2b3c4d>``, the first 8 hex digits of its SHA-256: one value, one hash, everywhere.
Two ways to find secrets, sharing the names below:

- by name, in a mapping of headers or parameters (``redact_mapping``: the mock's journal);
- in free text (``redact_text``: messages, logs, reports), by the name in front of a value and by the shapes of
  credentials, the mock's tokens and JWTs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})
"""Headers whose value is a secret (Authorization keeps its scheme, cookies their names where the format allows)."""
SECRET_FIELDS = frozenset(
    {
        "access_token",
        "admin_key",
        "api_key",
        "client_secret",
        "code",
        "code_verifier",
        "id_token",
        "id_token_hint",
        "login_challenge",
        "otp",
        "password",
        "refresh_token",
        "state",
        "token",
        "totp",
        "totp_secret",
    }
)
"""Parameter, form field and JSON key names whose value is a secret (compared in lower case)."""
SECRET_ENDINGS = ("code", "code_verifier", "token", "state", "secret", "password", "totp")
"""A name that ends so holds a secret too (``hoop_access_token``, ``IDP_CLIENT_SECRET``, ``new_password``)."""
JOURNAL_CLEAR = frozenset({"state"})
"""Names the mock's journal keeps in clear although reports redact them: checks compare the ``state`` a gateway
sent with the one that came back (a CSRF binding, single-use; reports, which compare nothing, redact it)."""
URL_HEADERS = frozenset({"referer", "location", "origin"})
"""Headers holding a URL whose query may carry a secret (a code, a token)."""

_NAME = "(?:" + "|".join(SECRET_ENDINGS) + ")"
SECRET = re.compile(
    rf"(?P<name>(?i:{_NAME})(?:=[\"']?|\s*=\s*[\"']))(?!<redacted:)(?P<value>[^&\s\"'\\;]+)"
    rf"|(?P<key>[\"'](?i:[\w-]*{_NAME})[\"']\s*:\s*[\"'])(?!<redacted:)(?P<quoted>[^\"'\\]+)"
    r"|(?P<scheme>\b(?:Bearer|Basic)\s+)(?!<redacted:)(?P<credentials>[A-Za-z0-9._~+/=-]{8,})"
    r"|(?P<opaque>\bory_[a-z]{2}_[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)?)"
    r"|(?P<jwt>\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)"
)
"""Every secret ``redact_text`` finds: the value of a URL parameter, form field, cookie or keyword whose name ends
in a ``SECRET_ENDINGS`` word (``code=…``, ``password='…'``), of a quoted key so named (``"access_token": "…"``), an
Authorization header's credentials, the mock's opaque tokens (``ory_at_``, ``ory_rt_``, ``ory_ac_``) and JWT-shaped
strings."""


def redact(value: str) -> str:
    """``<redacted:1a2b3c4d>``: the first 8 hex digits of the value's SHA-256."""
    return f"<redacted:{hashlib.sha256(value.encode()).hexdigest()[:8]}>"


def is_secret_name(name: str) -> bool:
    """Whether a header, parameter, field or key of this name holds a secret (case-insensitive)."""
    lowered = name.lower()
    return (
        lowered in SECRET_HEADERS
        or lowered in SECRET_FIELDS
        or lowered.startswith("totp")
        or lowered.endswith(SECRET_ENDINGS)
    )


def _redact_match(match: re.Match[str]) -> str:
    for prefix, secret in (("name", "value"), ("key", "quoted"), ("scheme", "credentials")):
        if match.group(prefix) is not None:
            return match.group(prefix) + redact(match.group(secret))
    return redact(match.group(0))


def redact_text(text: str) -> str:
    """The text with every secret ``SECRET`` finds redacted (values already redacted are left alone)."""
    return SECRET.sub(_redact_match, text)


def redact_authorization(value: str) -> str:
    """Keep the scheme of an Authorization header, redact its credentials."""
    scheme, _, credentials = value.partition(" ")
    return f"{scheme} {redact(credentials)}" if credentials else redact(value)


def redact_url(value: str) -> str:
    """A URL with the secret-named parameters of its query redacted (the journal's: ``state`` stays)."""
    parts = urlsplit(value)
    if not parts.query:
        return value
    query = redact_mapping(dict(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit(parts._replace(query=urlencode(query, safe="<>:")))


def redact_mapping(values: Mapping[str, str]) -> dict[str, str]:
    """A copy with every secret-named entry (``is_secret_name``, except ``JOURNAL_CLEAR``) redacted, and the secrets
    in URL headers: the journal's view of a request's headers, query and form."""
    redacted = {}
    for name, value in values.items():
        lowered = name.lower()
        if lowered in ("authorization", "proxy-authorization"):
            redacted[name] = redact_authorization(value)
        elif lowered in URL_HEADERS:
            redacted[name] = redact_url(value)
        elif is_secret_name(lowered) and lowered not in JOURNAL_CLEAR:
            redacted[name] = redact(value)
        else:
            redacted[name] = value
    return redacted
