"""Groups from the ID token's groups claim, and the roles they grant."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reference_gateway.settings import DEFAULT_GROUPS_CLAIM, Settings

_ABSENT = object()


def claimed_groups(claims: Mapping[str, Any], settings: Settings) -> list[str] | None:
    """The groups the IdP sent, or ``None`` when the user's groups must stay unchanged.

    An array gives its non-empty strings, de-duplicated in order; a string gives
    one group (none if empty); an absent claim or any other type gives ``None``.
    """
    name = DEFAULT_GROUPS_CLAIM if settings.mutant("ignore_groups_claim_setting") else settings.groups_claim
    value = claims.get(name, _ABSENT)
    if value is _ABSENT:
        return [] if settings.mutant("clear_on_absent") else None
    if isinstance(value, str):
        return None if settings.mutant("groups_string_ignored") else [value] if value else []
    if not isinstance(value, list):
        return None
    if not value and settings.mutant("ignore_empty_array"):
        return None
    if settings.mutant("groups_keep_non_strings"):
        entries = [entry if isinstance(entry, str) else str(entry) for entry in value]
    else:
        entries = [entry for entry in value if isinstance(entry, str) and entry]
    if settings.mutant("groups_case_fold"):
        entries = [entry.lower() for entry in entries]
    if settings.mutant("groups_first_only"):
        entries = entries[:1]
    return entries if settings.mutant("no_dedupe") else list(dict.fromkeys(entries))


def synced_groups(current: Sequence[str], claimed: list[str] | None, settings: Settings) -> list[str]:
    """The user's groups after a login: exactly the IdP's, or unchanged when it sent none."""
    if claimed is None:
        return list(current)
    if settings.mutant("groups_merge"):
        return list(dict.fromkeys([*current, *claimed]))
    if settings.admin_group in current and settings.admin_group not in claimed and settings.mutant("keep_admin"):
        return [*claimed, settings.admin_group]
    return claimed


def _holds(groups: Sequence[str], name: str, settings: Settings) -> bool:
    """Whether ``groups`` hold the group ``name`` exactly (the ``admin_group_lookalikes`` mutant ignores case and
    surrounding spaces)."""
    if settings.mutant("admin_group_lookalikes"):
        return any(group.strip().lower() == name.strip().lower() for group in groups)
    return name in groups


def role_of(groups: Sequence[str], settings: Settings) -> str:
    """``admin``, ``auditor`` or ``standard``, from the configured group names."""
    if _holds(groups, settings.admin_group, settings) and not settings.mutant("admin_role_never_granted"):
        return "admin"
    if _holds(groups, settings.auditor_group, settings):
        return "auditor"
    return "standard"


def may_pass(role: str, allowed: frozenset[str], settings: Settings) -> bool:
    """Whether ``role`` passes a route open to the ``allowed`` roles (admins pass every route)."""
    if role == "admin" or role in allowed:
        return True
    if settings.mutant("admin_routes_open"):
        return True
    return role == "auditor" and settings.mutant("auditor_is_admin")
