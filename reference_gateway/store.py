"""SQLite storage: users, pending login states and the access tokens the gateway handed out."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    status TEXT NOT NULL,
    groups TEXT NOT NULL,
    email_verified INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS users_subject ON users (subject);
CREATE TABLE IF NOT EXISTS login_states (
    state TEXT PRIMARY KEY,
    redirect TEXT NOT NULL,
    code_verifier TEXT,
    nonce TEXT,
    binding_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    replay_token TEXT
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL DEFAULT 0
);
"""
_INDEXES = """
CREATE INDEX IF NOT EXISTS tokens_user ON tokens (user_id, created_at);
CREATE INDEX IF NOT EXISTS tokens_expiry ON tokens (expires_at);
"""
MAX_SESSIONS_PER_USER = 20
"""Tokens remembered per user: a new login beyond that forgets the user's oldest session."""


@dataclass(frozen=True, kw_only=True)
class User:
    """A gateway user, matched by lower-cased e-mail."""

    id: str
    email: str
    name: str
    subject: str
    """The IdP's ``sub`` for this user at the last login."""
    status: str
    """``active`` or ``inactive``."""
    groups: tuple[str, ...]
    email_verified: bool
    created_at: float


@dataclass(frozen=True, kw_only=True)
class LoginState:
    """A login in progress, stored server side under its ``state``."""

    state: str
    redirect: str
    code_verifier: str | None
    nonce: str | None
    binding_hash: str
    """SHA-256 of the browser-binding cookie set when the login started."""
    created_at: float
    used: bool = False
    replay_token: str | None = None


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        subject=row["subject"],
        status=row["status"],
        groups=tuple(json.loads(row["groups"])),
        email_verified=bool(row["email_verified"]),
        created_at=row["created_at"],
    )


class Store:
    """The gateway's database. Each method is one short, locked transaction."""

    def __init__(self, path: str = ":memory:") -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(_SCHEMA)
            columns = {row["name"] for row in self._db.execute("PRAGMA table_info(tokens)")}
            if "expires_at" not in columns:  # a database from before tokens expired
                self._db.execute("ALTER TABLE tokens ADD COLUMN expires_at REAL NOT NULL DEFAULT 0")
            self._db.executescript(_INDEXES)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    # login states

    def add_login_state(self, login: LoginState) -> None:
        """Store a new pending login."""
        with self._lock:
            self._db.execute(
                "INSERT INTO login_states (state, redirect, code_verifier, nonce, binding_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (login.state, login.redirect, login.code_verifier, login.nonce, login.binding_hash, login.created_at),
            )

    def clear_login_states(self) -> None:
        """Forget every pending login."""
        with self._lock:
            self._db.execute("DELETE FROM login_states")

    def login_state(self, state: str) -> LoginState | None:
        """The login stored under ``state``, used or not."""
        with self._lock:
            row = self._db.execute("SELECT * FROM login_states WHERE state = ?", (state,)).fetchone()
        if row is None:
            return None
        return LoginState(**{key: row[key] for key in row.keys()} | {"used": bool(row["used"])})  # noqa: SIM118 - a Row iterates values

    def consume_login_state(self, state: str, *, keep: bool = False) -> bool:
        """Use ``state`` up: delete it (or, with ``keep``, mark it used); ``True`` only for the call that did so."""
        with self._lock:
            if keep:
                cursor = self._db.execute("UPDATE login_states SET used = 1 WHERE state = ? AND used = 0", (state,))
            else:
                cursor = self._db.execute("DELETE FROM login_states WHERE state = ? AND used = 0", (state,))
        return cursor.rowcount == 1

    def remember_replay_token(self, state: str, token: str) -> None:
        """Keep the token a login handed out (only the ``second_session_on_replay`` mutant does)."""
        with self._lock:
            self._db.execute("UPDATE login_states SET replay_token = ? WHERE state = ?", (token, state))

    def forget_expired_states(self, older_than: float) -> None:
        """Delete login states created before ``older_than``."""
        with self._lock:
            self._db.execute("DELETE FROM login_states WHERE created_at < ?", (older_than,))

    # users

    def user_by_id(self, user_id: str) -> User | None:
        """The user with id ``user_id``."""
        return self._one("SELECT * FROM users WHERE id = ?", user_id)

    def user_by_email(self, email: str) -> User | None:
        """The user with e-mail ``email`` (compared as stored)."""
        return self._one("SELECT * FROM users WHERE email = ?", email)

    def user_by_subject(self, subject: str) -> User | None:
        """The user last logged in with IdP subject ``subject``."""
        return self._one("SELECT * FROM users WHERE subject = ? ORDER BY created_at LIMIT 1", subject)

    def users(self) -> list[User]:
        """Every user, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM users ORDER BY created_at, email").fetchall()
        return [_user(row) for row in rows]

    def _one(self, query: str, value: str) -> User | None:
        with self._lock:
            row = self._db.execute(query, (value,)).fetchone()
        return None if row is None else _user(row)

    def create_user(
        self, *, email: str, name: str, subject: str, groups: list[str], email_verified: bool, first_group: str | None
    ) -> User:
        """Create a user; when the table is empty and ``first_group`` is set, the user also gets that group."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                empty = self._db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
                if empty and first_group is not None and first_group not in groups:
                    groups = [*groups, first_group]
                user = User(
                    id=str(uuid.uuid4()),
                    email=email,
                    name=name,
                    subject=subject,
                    status="active",
                    groups=tuple(groups),
                    email_verified=email_verified,
                    created_at=time.time(),
                )
                self._write(user, "INSERT")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return user

    def save_user(self, user: User) -> User:
        """Write back a changed user."""
        with self._lock:
            self._write(user, "REPLACE")
        return user

    def _write(self, user: User, verb: str) -> None:
        self._db.execute(
            f"{verb} INTO users (id, email, name, subject, status, groups, email_verified, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                user.id,
                user.email,
                user.name,
                user.subject,
                user.status,
                json.dumps(list(user.groups)),
                int(user.email_verified),
                user.created_at,
            ),
        )

    # tokens

    def register_token(self, token_hash: str, user_id: str, *, expires_at: float) -> None:
        """Remember that the gateway handed out the token with this hash to ``user_id``, until ``expires_at``.

        Expired tokens, and the user's sessions beyond ``MAX_SESSIONS_PER_USER``, are forgotten at once:
        nothing piles up per login.
        """
        now = time.time()
        with self._lock:
            self._db.execute("DELETE FROM tokens WHERE expires_at < ?", (now,))
            self._db.execute(
                "REPLACE INTO tokens (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (token_hash, user_id, now, expires_at),
            )
            self._db.execute(
                "DELETE FROM tokens WHERE user_id = ? AND token_hash NOT IN"
                " (SELECT token_hash FROM tokens WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?)",
                (user_id, user_id, MAX_SESSIONS_PER_USER),
            )

    def token_owner(self, token_hash: str) -> str | None:
        """The user the token with this hash was handed out to, if it has not expired."""
        with self._lock:
            row = self._db.execute(
                "SELECT user_id FROM tokens WHERE token_hash = ? AND expires_at >= ?", (token_hash, time.time())
            ).fetchone()
        return None if row is None else str(row["user_id"])
