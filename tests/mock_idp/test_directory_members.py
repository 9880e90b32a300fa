"""A group's members: a list in the order added whose membership test stays right through every change (it is a set
lookup, asked on every token and userinfo request)."""

from __future__ import annotations

import copy

from mock_idp.directory import Group, Members


def test_membership_follows_every_change() -> None:
    members = Members(["a", "b"])
    members.append("c")
    members.remove("a")
    members += ["d"]
    members.insert(0, "e")
    assert members.pop(0) == "e"
    members[0] = "x"
    del members[1]
    assert list(members) == ["x", "d"]
    assert all(user in members for user in ("x", "d"))
    assert not any(user in members for user in ("a", "b", "c", "e"))
    members.clear()
    assert "x" not in members and list(members) == []


def test_a_groups_members_are_kept_in_order_and_copies_are_apart() -> None:
    group = Group("engineers")
    for user in ("u3", "u1", "u2"):
        group.members.append(user)
    copied = copy.deepcopy(group)
    copied.members.append("u4")
    assert group.members == ["u3", "u1", "u2"] and group.members[1:] == ["u1", "u2"]
    assert "u4" in copied.members and "u4" not in group.members
