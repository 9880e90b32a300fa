"""The request journal: what the mock received and answered, with secrets redacted."""

from __future__ import annotations

import itertools
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from mock_idp.redaction import redact_mapping

JOURNAL_LIMIT = 100_000


@dataclass
class Entry:
    """One request the mock answered."""

    seq: int
    time: float
    endpoint: str
    method: str
    path: str
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)
    client_auth: str | None = None
    client_id: str | None = None
    app_id: str | None = None
    user_id: str | None = None
    user_email: str | None = None
    faults: list[str] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        """The entry as the control API returns it (already redacted)."""
        return asdict(self)


class Journal:
    """The most recent requests, newest last."""

    def __init__(self) -> None:
        self._entries: deque[Entry] = deque(maxlen=JOURNAL_LIMIT)
        self._seq = itertools.count(1)

    def open(self, endpoint: str, method: str, path: str, headers: dict[str, str], query: dict[str, str]) -> Entry:
        """Start an entry for a request; secrets in headers and query are redacted now."""
        entry = Entry(
            seq=next(self._seq),
            time=time.time(),
            endpoint=endpoint,
            method=method,
            path=path,
            headers=redact_mapping(headers),
            query=redact_mapping(query),
        )
        self._entries.append(entry)
        return entry

    @staticmethod
    def record_form(entry: Entry, form: dict[str, str]) -> None:
        """Attach a request's form body, redacted."""
        entry.form = redact_mapping(form)

    def last_seq(self) -> int:
        """The sequence number of the newest entry (0 when empty): a cursor for ``since``."""
        return self._entries[-1].seq if self._entries else 0

    def query(
        self,
        *,
        user: str | None = None,
        app: str | None = None,
        endpoint: str | None = None,
        since: int | None = None,
        since_time: float | None = None,
    ) -> list[Entry]:
        """Entries matching every given filter: user (id or e-mail), app (client or app id), endpoint, cursor."""
        wanted_user = user.lower() if user else None
        result = []
        for entry in self._entries:
            if since is not None and entry.seq <= since:
                continue
            if since_time is not None and entry.time < since_time:
                continue
            if endpoint and entry.endpoint != endpoint:
                continue
            if app and app not in (entry.client_id, entry.app_id):
                continue
            if wanted_user and wanted_user not in (entry.user_id, (entry.user_email or "").lower()):
                continue
            result.append(entry)
        return result
