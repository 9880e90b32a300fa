"""The example settings file loads, and the mock it describes serves its apps and users."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hoop_conformance.launchers.mock import start_mock_idp
from mock_idp import MockIdpSettings

EXAMPLE = Path(__file__).parents[2] / "examples" / "mock-idp.toml"


def test_example_settings_load() -> None:
    settings = MockIdpSettings.from_file(EXAMPLE)
    assert [app.client_id for app in settings.apps] == ["hoop-local", "hoop-cli"]
    assert settings.apps[1].client_secret is None, "a public client has no secret"
    assert settings.users[1].totp_secret == "JBSWY3DPEHPK3PXP"


def test_example_settings_serve_their_apps_and_users() -> None:
    settings = replace(MockIdpSettings.from_file(EXAMPLE), admin_key="another-key")
    with start_mock_idp(settings) as idp:
        assert {app["client_id"] for app in idp.apps} == {"hoop-local", "hoop-cli"}
        alice = idp.admin.find_user("ALICE@example.com")
        assert alice is not None and alice["firstname"] == "Alice"
        admin = idp.admin.find_group("admin")
        assert admin is not None and idp.admin.list_members(admin["id"]) == [alice["_id"]]
        assert idp.admin.find_user("bob@example.com")["totp_enabled"] is True
