"""The JumpCloud admin API subset: v1 systemusers and applications, v2 usergroups, members, associations."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mock_idp.directory import User
from mock_idp.errors import ApiError
from mock_idp.journal import Entry
from mock_idp.provider import Provider
from mock_idp.web import endpoint, intercept, read_json

USER_FIELDS = {
    "email", "username", "firstname", "lastname", "middlename", "password", "activated", "suspended", "description",
}  # fmt: skip
BOOL_FIELDS = {"activated", "suspended"}
STATES = {"STAGED": (False, False), "ACTIVATED": (True, False), "SUSPENDED": (True, True)}
"""A systemuser's ``state`` -> (activated, suspended)."""
SORT_KEYS: dict[str, Callable[[Any], str]] = {
    "_id": lambda item: str(item.id),
    "id": lambda item: str(item.id),
    "name": lambda item: str(getattr(item, "name", "")),
    "username": lambda item: str(getattr(item, "username", "")),
    "email": lambda item: str(getattr(item, "email", "")),
    "created": lambda item: str(getattr(item, "created", "")),
}
"""What ``sort`` may name (``-`` first: descending); JumpCloud advises ``sort=_id`` when paging."""


def require_key(request: Request, provider: Provider) -> None:
    """Every admin and control call carries the admin key in ``x-api-key``."""
    given = request.headers.get("x-api-key", "")
    if not hmac.compare_digest(given.encode(), provider.settings.admin_key.encode()):
        raise ApiError(401, "Unauthorized: the x-api-key header is missing or not a valid API key")


def require_org(request: Request, provider: Provider) -> None:
    """``x-org-id``, when sent, must be the organization's; with ``require_org_id`` it must be sent."""
    given = request.headers.get("x-org-id")
    if given is None:
        if provider.settings.require_org_id:
            raise ApiError(400, "x-org-id header is required: this API key administers several organizations")
        return
    if not hmac.compare_digest(given.encode(), provider.settings.org_id.encode()):
        raise ApiError(401, "Unauthorized: the API key has no access to the organization in x-org-id")


def admin(handler: Any) -> Any:
    """An admin API route: key and organization checked, ``admin`` faults applied, journaled."""

    async def checked(request: Request, provider: Provider, entry: Entry) -> Response:
        fault = await intercept(provider, "admin", entry)
        if fault is not None:  # a rate limit or outage answers before any check, as a gateway in front would
            return fault
        require_key(request, provider)
        require_org(request, provider)
        answer: Response = await handler(request, provider, entry)
        return answer

    checked.__name__ = handler.__name__
    checked.__doc__ = handler.__doc__
    return endpoint("admin")(checked)


def parse_filter(raw: str | None, field_names: set[str], operator: str) -> tuple[str, str] | None:
    """``field:<operator>:value`` (v1 ``$eq``, v2 ``eq``) into (field, value)."""
    if not raw:
        return None
    field_name, _, rest = raw.partition(":")
    op, _, value = rest.partition(":")
    if field_name not in field_names or op != operator:
        raise ApiError(400, f"invalid filter {raw!r}: use {'|'.join(sorted(field_names))}:{operator}:<value>")
    return field_name, value


def page(request: Request, items: list[Any]) -> list[Any]:
    """Apply the ``sort`` (a field, ``-`` first for descending), ``skip`` and ``limit`` query parameters."""
    sort = request.query_params.get("sort")
    if sort:
        name = sort.removeprefix("-")
        if name not in SORT_KEYS:
            raise ApiError(400, f"cannot sort by {sort!r}: use one of {', '.join(SORT_KEYS)} (- first: descending)")
        items = sorted(items, key=SORT_KEYS[name], reverse=sort.startswith("-"))
    try:
        skip = int(request.query_params.get("skip", "0"))
        limit = int(request.query_params.get("limit", "100"))
    except ValueError:
        raise ApiError(400, "skip and limit must be integers") from None
    if skip < 0 or not 0 < limit <= 1000:
        raise ApiError(400, "skip must be >= 0 and limit between 1 and 1000")
    return items[skip : skip + limit]


def user_fields(data: Any, *, creating: bool) -> dict[str, Any]:
    """Validated systemuser fields from a request body."""
    if not isinstance(data, dict):
        raise ApiError(400, "the request body must be a JSON object")
    fields = {key: value for key, value in data.items() if key in USER_FIELDS}
    for key, value in fields.items():
        expected = bool if key in BOOL_FIELDS else str
        if not isinstance(value, expected):
            raise ApiError(400, f"{key} must be a {'boolean' if expected is bool else 'string'}")
    if "state" in data:
        if data["state"] not in STATES:
            raise ApiError(400, f"state must be one of {', '.join(STATES)}")
        fields["activated"], fields["suspended"] = STATES[data["state"]]
    if "mfa" in data:
        fields.update(mfa_fields(data["mfa"]))
    if creating:
        for required in ("email", "username"):
            if not fields.get(required):
                raise ApiError(400, f"{required} is required")
    if "email" in fields and "@" not in fields["email"]:
        raise ApiError(400, "email must be a valid e-mail address")
    return fields


def mfa_fields(mfa: Any) -> dict[str, Any]:
    """``mfa: {exclusion, exclusionUntil}`` as user fields (``exclusionUntil`` an RFC 3339 time)."""
    if not isinstance(mfa, dict):
        raise ApiError(400, "mfa must be an object")
    exclusion, until = mfa.get("exclusion", False), mfa.get("exclusionUntil")
    if not isinstance(exclusion, bool):
        raise ApiError(400, "mfa.exclusion must be a boolean")
    if until is not None:
        try:
            parsed = datetime.fromisoformat(until) if isinstance(until, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise ApiError(400, "mfa.exclusionUntil must be an RFC 3339 date-time with a time zone")
    return {"mfa_exclusion": exclusion, "mfa_exclusion_until": until if exclusion else None}


@admin
async def list_users(request: Request, provider: Provider, entry: Entry) -> Response:
    """``GET /systemusers``, with ``filter=email:$eq:<email>``."""
    wanted = parse_filter(request.query_params.get("filter"), {"email", "username"}, "$eq")
    users = list(provider.directory.users.values())
    if wanted is not None:
        name, value = wanted
        users = [u for u in users if getattr(u, name).lower() == value.lower()]
    results = [u.to_api(provider.settings.org_id) for u in page(request, users)]
    return JSONResponse({"totalCount": len(users), "results": results})


@admin
async def create_user(request: Request, provider: Provider, entry: Entry) -> Response:
    """``POST /systemusers``."""
    fields = user_fields(await read_json(request, entry), creating=True)
    fields.setdefault("password", "")
    user = provider.directory.add_user(User(**fields))
    provider.note(entry, user=user)
    return JSONResponse(user.to_api(provider.settings.org_id))


@admin
async def get_user(request: Request, provider: Provider, entry: Entry) -> Response:
    """``GET /systemusers/{id}``."""
    user = provider.directory.user(request.path_params["user_id"])
    return JSONResponse(user.to_api(provider.settings.org_id))


@admin
async def update_user(request: Request, provider: Provider, entry: Entry) -> Response:
    """``PUT /systemusers/{id}``: any field, ``suspended`` included (which ends the user's IdP sessions)."""
    user = provider.directory.user(request.path_params["user_id"])
    fields = user_fields(await read_json(request, entry), creating=False)
    other = provider.directory.user_by_email(fields.get("email", user.email))
    if other is not None and other is not user:
        raise ApiError(400, "User already exists")
    for key, value in fields.items():
        setattr(user, key, value)
    if not user.active:
        provider.grants.revoke_user(user.id)
    provider.note(entry, user=user)
    return JSONResponse(user.to_api(provider.settings.org_id))


@admin
async def delete_user(request: Request, provider: Provider, entry: Entry) -> Response:
    """``DELETE /systemusers/{id}``: answers the deleted user."""
    user = provider.directory.delete_user(request.path_params["user_id"])
    provider.grants.revoke_user(user.id)
    return JSONResponse(user.to_api(provider.settings.org_id))


@admin
async def activate_user(request: Request, provider: Provider, entry: Entry) -> Response:
    """``POST /systemusers/{id}/state/activate``: a STAGED user becomes ACTIVATED (the mock sends no e-mail)."""
    user = provider.directory.user(request.path_params["user_id"])
    user.activated = True
    provider.note(entry, user=user)
    return JSONResponse(user.to_api(provider.settings.org_id))


@admin
async def unlock_user(request: Request, provider: Provider, entry: Entry) -> Response:
    """``POST /systemusers/{id}/unlock``: an account locked by wrong passwords may log in again."""
    user = provider.directory.user(request.path_params["user_id"])
    user.account_locked, user.failed_logins = False, 0
    provider.note(entry, user=user)
    return JSONResponse(user.to_api(provider.settings.org_id))


@admin
async def reset_mfa(request: Request, provider: Provider, entry: Entry) -> Response:
    """``POST /systemusers/{id}/resetmfa {exclusion, exclusionUntil}``: the TOTP key is dropped (the user enrols
    again) and, with ``exclusion``, MFA is not required until ``exclusionUntil``."""
    user = provider.directory.user(request.path_params["user_id"])
    data = await read_json(request, entry)
    fields = mfa_fields(data if isinstance(data, dict) else None)
    user.totp_secret = None
    user.mfa_exclusion, user.mfa_exclusion_until = fields["mfa_exclusion"], fields["mfa_exclusion_until"]
    provider.note(entry, user=user)
    return JSONResponse(user.to_api(provider.settings.org_id))


def app_api(app: Any) -> dict[str, Any]:
    """A v1 ``application``: an OIDC app with its Login URL and redirect URIs (never its secret)."""
    return {
        "_id": app.app_id,
        "id": app.app_id,
        "name": "oidc",
        "displayName": app.name,
        "displayLabel": app.name,
        "ssoUrl": app.login_url,
        "sso": {"type": "oidc", "redirectUris": list(app.redirect_uris)},
        "config": {"redirectUris": {"value": list(app.redirect_uris)}},
    }


@admin
async def get_app(request: Request, provider: Provider, entry: Entry) -> Response:
    """``GET /applications/{id}`` (v1)."""
    return JSONResponse(app_api(provider.directory.app(request.path_params["app_id"])))


@admin
async def list_apps(request: Request, provider: Provider, entry: Entry) -> Response:
    """``GET /applications`` (v1): the OIDC apps, so a staging run can find its app's id."""
    apps = [app_api(a) for a in provider.directory.apps.values()]
    return JSONResponse({"totalCount": len(apps), "results": page(request, apps)})


@admin
async def list_groups(request: Request, provider: Provider, entry: Entry) -> Response:
    """``GET /v2/usergroups``, with ``filter=name:eq:<name>``."""
    wanted = parse_filter(request.query_params.get("filter"), {"name"}, "eq")
    groups = [g for g in provider.directory.groups.values() if wanted is None or g.name == wanted[1]]
    return JSONResponse([g.to_api() for g in page(request, groups)])


@admin
async def create_group(request: Request, provider: Provider, entry: Entry) -> Response:
    """``POST /v2/usergroups``: 201 with the group."""
    data = await read_json(request, entry)
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, "name is required")
    if len(name) > 255:
        raise ApiError(400, "name must be at most 255 characters")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ApiError(400, "description must be a string")
    return JSONResponse(provider.directory.add_group(name, description).to_api(), status_code=201)


@admin
async def get_group(request: Request, provider: Provider, entry: Entry) -> Response:
    """``GET /v2/usergroups/{id}``."""
    return JSONResponse(provider.directory.group(request.path_params["group_id"]).to_api())


@admin
async def delete_group(request: Request, provider: Provider, entry: Entry) -> Response:
    """``DELETE /v2/usergroups/{id}``: 204."""
    provider.directory.delete_group(request.path_params["group_id"])
    return Response(status_code=204)


def graph_op(data: Any, target_type: str) -> tuple[str, str]:
    """Validate a v2 graph operation body ``{"op", "type", "id"}``."""
    if not isinstance(data, dict) or data.get("op") not in ("add", "remove"):
        raise ApiError(400, 'op must be "add" or "remove"')
    if data.get("type") != target_type:
        raise ApiError(400, f'type must be "{target_type}"')
    if not isinstance(data.get("id"), str):
        raise ApiError(400, "id is required")
    return data["op"], data["id"]


def connections(ids: list[str], target_type: str) -> list[dict[str, Any]]:
    """v2 ``GraphConnection`` objects."""
    return [{"attributes": None, "to": {"attributes": None, "id": i, "type": target_type}} for i in ids]


@admin
async def members(request: Request, provider: Provider, entry: Entry) -> Response:
    """``GET|POST /v2/usergroups/{id}/members``."""
    group = provider.directory.group(request.path_params["group_id"])
    if request.method == "GET":
        return JSONResponse(connections(page(request, group.members), "user"))
    op, user_id = graph_op(await read_json(request, entry), "user")
    user = provider.directory.user(user_id)
    provider.note(entry, user=user)
    if op == "add" and user.id not in group.members:
        group.members.append(user.id)
    elif op == "add":
        raise ApiError(409, "Already Exists")
    elif user.id in group.members:
        group.members.remove(user.id)
    else:
        raise ApiError(404, "Not Found")
    return Response(status_code=204)


@admin
async def associations(request: Request, provider: Provider, entry: Entry) -> Response:
    """``GET|POST /v2/usergroups/{id}/associations`` (``targets=application``)."""
    group = provider.directory.group(request.path_params["group_id"])
    if request.method == "GET":
        if request.query_params.get("targets") not in (None, "application"):
            raise ApiError(400, "targets must be application")
        return JSONResponse(connections(sorted(group.apps), "application"))
    op, app_id = graph_op(await read_json(request, entry), "application")
    app = provider.directory.app(app_id)
    provider.note(entry, client_id=app.client_id, app_id=app.app_id)
    if op == "add":
        group.apps.add(app.app_id)
    else:
        group.apps.discard(app.app_id)
    return Response(status_code=204)


def routes() -> list[Route]:
    """The admin API, relative to ``/api``."""
    return [
        Route("/systemusers", list_users, methods=["GET"]),
        Route("/systemusers", create_user, methods=["POST"]),
        Route("/systemusers/{user_id}", get_user, methods=["GET"]),
        Route("/systemusers/{user_id}", update_user, methods=["PUT"]),
        Route("/systemusers/{user_id}", delete_user, methods=["DELETE"]),
        Route("/systemusers/{user_id}/state/activate", activate_user, methods=["POST"]),
        Route("/systemusers/{user_id}/unlock", unlock_user, methods=["POST"]),
        Route("/systemusers/{user_id}/resetmfa", reset_mfa, methods=["POST"]),
        Route("/applications", list_apps, methods=["GET"]),
        Route("/applications/{app_id}", get_app, methods=["GET"]),
        Route("/v2/usergroups", list_groups, methods=["GET"]),
        Route("/v2/usergroups", create_group, methods=["POST"]),
        Route("/v2/usergroups/{group_id}", get_group, methods=["GET"]),
        Route("/v2/usergroups/{group_id}", delete_group, methods=["DELETE"]),
        Route("/v2/usergroups/{group_id}/members", members, methods=["GET", "POST"]),
        Route("/v2/usergroups/{group_id}/associations", associations, methods=["GET", "POST"]),
    ]
