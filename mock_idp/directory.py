"""The JumpCloud directory: users, user groups, memberships and app bindings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, SupportsIndex

from mock_idp.errors import ApiError
from mock_idp.settings import AppSettings, new_object_id


@dataclass
class User:
    """A JumpCloud system user."""

    email: str
    password: str
    username: str
    firstname: str = ""
    lastname: str = ""
    middlename: str = ""
    activated: bool = True
    suspended: bool = False
    totp_secret: str | None = None
    description: str = ""
    mfa_exclusion: bool = False
    mfa_exclusion_until: str | None = None
    """RFC 3339: until when MFA is not required (``mfa.exclusionUntil``); None with ``mfa_exclusion``: always."""
    account_locked: bool = False
    failed_logins: int = 0
    id: str = field(default_factory=new_object_id)
    created: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )

    @property
    def active(self) -> bool:
        """Whether the user may log in and use tokens."""
        return self.activated and not self.suspended

    def mfa_excluded(self, now: float) -> bool:
        """Whether MFA is not required at ``now`` (an exclusion window that has not ended)."""
        if not self.mfa_exclusion:
            return False
        if self.mfa_exclusion_until is None:
            return True
        return datetime.fromisoformat(self.mfa_exclusion_until).timestamp() > now

    @property
    def display_name(self) -> str:
        """``firstname lastname``, or the username."""
        return " ".join(part for part in (self.firstname, self.lastname) if part) or self.username

    def to_api(self, org_id: str) -> dict[str, Any]:
        """The v1 ``systemuser`` JSON (never the password)."""
        return {
            "_id": self.id,
            "id": self.id,
            "email": self.email,
            "username": self.username,
            "firstname": self.firstname,
            "lastname": self.lastname,
            "middlename": self.middlename,
            "displayname": self.display_name,
            "activated": self.activated,
            "suspended": self.suspended,
            "state": "SUSPENDED" if self.suspended else ("ACTIVATED" if self.activated else "STAGED"),
            "account_locked": self.account_locked,
            "description": self.description,
            "totp_enabled": self.totp_secret is not None,
            "mfa": {
                "configured": self.totp_secret is not None,
                "exclusion": self.mfa_exclusion,
                **({"exclusionUntil": self.mfa_exclusion_until} if self.mfa_exclusion_until else {}),
            },
            "organization": org_id,
            "created": self.created,
        }


class Members(list[str]):
    """A group's member ids in the order added, with a set beside them: membership is asked on every token and
    userinfo request (``app_groups``), and a group bound to an app may hold every user of a login storm."""

    def __init__(self, ids: Iterable[str] = ()) -> None:
        super().__init__(ids)
        self._ids = set(self)

    def __contains__(self, user_id: object) -> bool:
        return user_id in self._ids

    def append(self, user_id: str) -> None:
        """Add a member at the end."""
        super().append(user_id)
        self._ids.add(user_id)

    def remove(self, user_id: str) -> None:
        """Remove a member."""
        super().remove(user_id)
        self._ids = set(self)

    def extend(self, ids: Iterable[str]) -> None:
        """Add members at the end."""
        super().extend(ids)
        self._ids = set(self)

    def __iadd__(self, ids: Iterable[str]) -> Members:  # type: ignore[override,misc]
        self.extend(ids)
        return self

    def insert(self, index: SupportsIndex, user_id: str) -> None:
        """Add a member at ``index``."""
        super().insert(index, user_id)
        self._ids.add(user_id)

    def pop(self, index: SupportsIndex = -1) -> str:
        """Remove and return the member at ``index``."""
        user_id = super().pop(index)
        self._ids = set(self)
        return user_id

    def clear(self) -> None:
        """Remove every member."""
        super().clear()
        self._ids.clear()

    def __setitem__(self, index: Any, value: Any) -> None:
        super().__setitem__(index, value)
        self._ids = set(self)

    def __delitem__(self, index: Any) -> None:
        super().__delitem__(index)
        self._ids = set(self)


@dataclass
class Group:
    """A JumpCloud user group, its members (in the order added) and the apps it is bound to."""

    name: str
    description: str = ""
    id: str = field(default_factory=new_object_id)
    members: list[str] = field(default_factory=Members)
    apps: set[str] = field(default_factory=set)

    def to_api(self) -> dict[str, Any]:
        """The v2 ``usergroup`` JSON."""
        return {
            "id": self.id,
            "name": self.name,
            "type": "user_group",
            "attributes": None,
            "description": self.description,
        }


class Directory:
    """Users, groups and apps, looked up the way JumpCloud does."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.groups: dict[str, Group] = {}
        self.apps: dict[str, AppSettings] = {}
        self._apps_by_client_id: dict[str, AppSettings] = {}

    # users
    def add_user(self, user: User) -> User:
        """Store a new user; e-mail and username are unique."""
        if self.user_by_email(user.email) or any(u.username == user.username for u in self.users.values()):
            raise ApiError(400, "User already exists")
        self.users[user.id] = user
        return user

    def user(self, user_id: str) -> User:
        """The user with ``user_id``, or a 404."""
        try:
            return self.users[user_id]
        except KeyError:
            raise ApiError(404, "Not Found") from None

    def user_by_email(self, email: str) -> User | None:
        """The user with this e-mail, compared case-insensitively."""
        wanted = email.strip().lower()
        return next((u for u in self.users.values() if u.email.lower() == wanted), None)

    def user_by_ref(self, ref: str) -> User | None:
        """A user by id (sub) or by e-mail."""
        return self.users.get(ref) or self.user_by_email(ref)

    def delete_user(self, user_id: str) -> User:
        """Remove a user and its memberships."""
        user = self.user(user_id)
        del self.users[user_id]
        for group in self.groups.values():
            if user_id in group.members:
                group.members.remove(user_id)
        return user

    # groups
    def add_group(self, name: str, description: str = "") -> Group:
        """A new group; names are unique."""
        if any(g.name == name for g in self.groups.values()):
            raise ApiError(409, f"A user group with name {name!r} already exists")
        group = Group(name=name, description=description)
        self.groups[group.id] = group
        return group

    def group(self, group_id: str) -> Group:
        """The group with ``group_id``, or a 404."""
        try:
            return self.groups[group_id]
        except KeyError:
            raise ApiError(404, "Not Found") from None

    def group_by_name(self, name: str) -> Group | None:
        """The group with exactly this name."""
        return next((g for g in self.groups.values() if g.name == name), None)

    def delete_group(self, group_id: str) -> Group:
        """Remove a group."""
        return self.groups.pop(self.group(group_id).id)

    # apps
    def add_app(self, app: AppSettings) -> AppSettings:
        """Register an app; client ids are unique."""
        if self.app_by_client_id(app.client_id):
            raise ApiError(409, f"an app with client_id {app.client_id!r} already exists")
        self.apps[app.app_id] = app
        self._apps_by_client_id[app.client_id] = app
        return app

    def app(self, app_id: str) -> AppSettings:
        """The app with ``app_id``, or a 404."""
        try:
            return self.apps[app_id]
        except KeyError:
            raise ApiError(404, "Not Found") from None

    def app_by_client_id(self, client_id: str) -> AppSettings | None:
        """The app whose OAuth client id is ``client_id``."""
        return self._apps_by_client_id.get(client_id)

    def app_groups(self, user: User, app: AppSettings) -> list[str]:
        """Names of the user's groups bound to ``app``, in the order they were created."""
        return [g.name for g in self.groups.values() if app.app_id in g.apps and user.id in g.members]

    def may_use(self, user: User, app: AppSettings) -> bool:
        """JumpCloud lets a user into an app only through a group bound to it."""
        return user.active and any(app.app_id in g.apps and user.id in g.members for g in self.groups.values())

    def apps_for(self, user: User) -> list[AppSettings]:
        """The apps the user sees as tiles in the user portal."""
        return [app for app in self.apps.values() if self.may_use(user, app)]
