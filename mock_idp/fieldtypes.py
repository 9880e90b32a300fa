"""Check a settings dataclass's values against its type hints, so a wrongly typed value is one clear line.

A settings file is TOML or JSON: a string where a list is expected would otherwise be iterated as
characters, and a quoted number would fail later with an error that names no field.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from mock_idp.errors import SettingsError

_SHOWN = 60
"""How many characters of a bad string an error message quotes."""


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


def check_fields(instance: Any) -> None:
    """Raise ``SettingsError`` naming the first field whose value does not match its annotation."""
    hints = _hints(type(instance))
    for field in dataclasses.fields(instance):
        value = getattr(instance, field.name)
        hint = hints[field.name]
        if not matches(value, hint):
            raise SettingsError(f"{field.name} must be {expected(hint)}, not {describe(value)}")
        if not _is_text(value):
            raise SettingsError(f"{field.name} holds characters that are not text (undecodable bytes?): {value!r}")


def _is_text(value: Any) -> bool:
    """Whether every string in ``value`` can be written as UTF-8 (no lone surrogates from undecodable bytes)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, tuple):
        return all(_is_text(element) for element in value)
    return True


def matches(value: Any, hint: Any) -> bool:
    """Whether ``value`` is of type ``hint`` (str, int, None, Literal, unions, ``tuple[X, ...]``, dataclasses)."""
    origin = get_origin(hint)
    if hint is type(None):
        return value is None
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin is Literal:
        return isinstance(value, str) and value in get_args(hint)
    if origin in (Union, types.UnionType):
        return any(matches(value, arg) for arg in get_args(hint))
    if origin is tuple:
        item = get_args(hint)[0]
        return isinstance(value, tuple) and all(matches(element, item) for element in value)
    if isinstance(hint, type):
        return isinstance(value, hint)
    raise TypeError(f"unsupported settings type {hint!r}")


def expected(hint: Any) -> str:
    """``hint`` in words: "a string", "a list of strings", "one of a, b"."""
    origin = get_origin(hint)
    if hint is type(None):
        return "null"
    if hint is int:
        return "an integer"
    if hint is bool:
        return "true or false"
    if hint is str:
        return "a string"
    if origin is Literal:
        return "one of " + ", ".join(str(arg) for arg in get_args(hint))
    if origin in (Union, types.UnionType):
        return " or ".join(expected(arg) for arg in get_args(hint))
    if origin is tuple:
        item = get_args(hint)[0]
        return "a list of " + ("strings" if item is str else "tables")
    return "a table"


def describe(value: Any) -> str:
    """A value as a settings file spells it: "the string 'http://…'", "true", "a table"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= _SHOWN else value[:_SHOWN] + "…"
        return f"the string {shown!r}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, list | tuple):
        wrong = next((element for element in value if not isinstance(element, str)), None)
        return "a list" if wrong is None else f"a list holding {describe(wrong)}"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"
