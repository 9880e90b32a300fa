"""The store keeps nothing per login: used states go, tokens expire, a user's sessions are bounded."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from reference_gateway.store import MAX_SESSIONS_PER_USER, LoginState, Store


@pytest.fixture
def store() -> Iterator[Store]:
    """An in-memory store."""
    opened = Store()
    yield opened
    opened.close()


def pending(state: str, created_at: float | None = None) -> LoginState:
    """A login state as ``/api/login`` stores it."""
    created_at = time.time() if created_at is None else created_at
    return LoginState(
        state=state, redirect="http://gw/cb", code_verifier="v", nonce="n", binding_hash="b", created_at=created_at
    )


def test_a_used_state_is_deleted_once(store: Store) -> None:
    store.add_login_state(pending("s-1"))
    assert store.consume_login_state("s-1")
    assert store.login_state("s-1") is None
    assert not store.consume_login_state("s-1")


def test_a_kept_state_is_only_marked_used(store: Store) -> None:
    store.add_login_state(pending("s-1"))
    assert store.consume_login_state("s-1", keep=True)
    kept = store.login_state("s-1")
    assert kept is not None and kept.used
    assert not store.consume_login_state("s-1", keep=True)


def test_abandoned_states_are_forgotten(store: Store) -> None:
    store.add_login_state(pending("old", created_at=time.time() - 3600))
    store.add_login_state(pending("new"))
    store.forget_expired_states(time.time() - 600)
    assert store.login_state("old") is None and store.login_state("new") is not None


def test_expired_tokens_are_refused_and_forgotten(store: Store) -> None:
    store.register_token("expired", "u-1", expires_at=time.time() - 1)
    assert store.token_owner("expired") is None
    store.register_token("live", "u-1", expires_at=time.time() + 60)
    assert store.token_owner("live") == "u-1"


def test_a_user_keeps_only_the_newest_sessions(store: Store) -> None:
    later = time.time() + 3600
    for n in range(MAX_SESSIONS_PER_USER + 1):
        store.register_token(f"t-{n}", "u-1", expires_at=later)
    store.register_token("other", "u-2", expires_at=later)
    assert store.token_owner("t-0") is None
    assert store.token_owner("t-1") == "u-1" and store.token_owner(f"t-{MAX_SESSIONS_PER_USER}") == "u-1"
    assert store.token_owner("other") == "u-2"
