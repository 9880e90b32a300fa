"""Secrets never reach a report: the text redaction, Playwright traces scrubbed in place, and the canary list.

The trace is a real one: Chromium logs in to a tiny local page (a password typed with ``fill``, a TOTP code typed
with the keyboard, a hidden client secret, cookies, a bearer header, tokens in URLs and in response bodies),
with Playwright's tracing on; then the archive is scrubbed and searched.
"""

from __future__ import annotations

import base64
import http.server
import json
import secrets
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser

from hoop_conformance.assertions import redact, redact_text
from hoop_conformance.logins import SignedIn
from hoop_conformance.reporting.scrub import scrub_trace
from hoop_conformance.secrets_seen import announce_to, seen
from hoop_conformance.users import IdpUser


def _jwt() -> str:
    def part(claims: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part({'sub': secrets.token_hex(8)})}.{secrets.token_urlsafe(32)}"


SECRETS = {
    "password": "Pw-" + secrets.token_urlsafe(16),
    "totp": f"{secrets.randbelow(900_000) + 100_000}",
    "client_secret": secrets.token_urlsafe(24),
    "session": secrets.token_urlsafe(32),
    "added_cookie": secrets.token_urlsafe(20),
    "code": secrets.token_urlsafe(20),
    "state": secrets.token_urlsafe(20),
    "access_token": f"ory_at_{secrets.token_urlsafe(32)}.{secrets.token_urlsafe(32)}",
    "refresh_token": f"ory_rt_{secrets.token_urlsafe(32)}.{secrets.token_urlsafe(32)}",
    "id_token": _jwt(),
}

LOGIN_PAGE = f"""<!doctype html><html><body>
<form method="post" action="/login">
<label>E-mail <input name="email" type="email"></label>
<label>Password <input id="pw" name="password" type="password"></label>
<label>Code <input id="otp" name="totp" inputmode="numeric"></label>
<input type="hidden" name="client_secret" value="{SECRETS["client_secret"]}">
<button type="submit">Sign in</button>
</form></body></html>"""
LANDING_PAGE = """<!doctype html><html><body><p>Signed in</p><code id="token"></code>
<script>document.getElementById('token').textContent = new URLSearchParams(location.search).get('token')</script>
</body></html>"""


class _Site(http.server.BaseHTTPRequestHandler):
    """The login page, a form post that signs in (cookie and ``?token=``), a landing page and a token endpoint."""

    def do_GET(self) -> None:
        if self.path.startswith("/token"):
            body = {k: SECRETS[k] for k in ("access_token", "refresh_token", "id_token")}
            self._send(200, json.dumps(body).encode(), "application/json")
        else:
            self._send(200, (LANDING_PAGE if self.path.startswith("/done") else LOGIN_PAGE).encode(), "text/html")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        query = f"token={SECRETS['session']}&code={SECRETS['code']}&state={SECRETS['state']}"
        self.send_response(303)
        self.send_header("Location", f"/done?{query}")
        self.send_header("Set-Cookie", f"hoop_access_token={SECRETS['session']}; Path=/; HttpOnly")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The tiny site on a loopback port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def trace(browser: Browser, site: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real trace of a login at the site, with snapshots, screenshots and sources, as pytest-playwright records."""
    path = tmp_path_factory.mktemp("trace") / "trace.zip"
    context = browser.new_context()
    context.tracing.start(screenshots=True, snapshots=True, sources=True)
    page = context.new_page()
    page.goto(site + "/")
    page.get_by_label("E-mail").fill("someone@example.com")
    page.get_by_label("Password").fill(SECRETS["password"])
    page.get_by_label("Code").click()
    page.keyboard.type(SECRETS["totp"])
    context.add_cookies([{"name": "jc_sso", "value": SECRETS["added_cookie"], "url": site}])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/done?*")
    page.locator("#token").filter(has_text=SECRETS["session"]).wait_for()
    body = page.evaluate(
        "t => fetch('/token', {headers: {Authorization: 'Bearer ' + t}}).then(r => r.text())", SECRETS["access_token"]
    )
    assert SECRETS["id_token"] in body
    context.tracing.stop(path=path)
    context.close()
    return path


@pytest.fixture(scope="module")
def scrubbed(trace: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scrubbed copy of the trace."""
    path = tmp_path_factory.mktemp("scrubbed") / "trace.zip"
    path.write_bytes(trace.read_bytes())
    scrub_trace(path)
    return path


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_the_raw_trace_holds_every_secret(trace: Path) -> None:
    """The premise: unscrubbed, the trace shows each secret (else the next test would prove nothing)."""
    everything = b"".join(_members(trace).values())
    missing = [name for name, value in SECRETS.items() if value.encode() not in everything]
    assert not missing, f"the raw trace lacks {missing}: the scrub test would be vacuous"


def test_no_secret_is_left_in_any_member(scrubbed: Path) -> None:
    for name, data in _members(scrubbed).items():
        for kind, value in SECRETS.items():
            for form in {value, quote(value, safe="")}:
                assert form.encode() not in data, f"the {kind} is still in {name}"


def test_secrets_are_redacted_to_their_short_hash(scrubbed: Path) -> None:
    """Redacted, not dropped: each shows as ``<redacted:…>`` of its value, so evidence can still compare them."""
    events = _members(scrubbed)["trace.trace"].decode() + _members(scrubbed)["trace.network"].decode()
    for kind in ("password", "totp", "session", "code", "access_token"):
        assert redact(SECRETS[kind]) in events, f"the {kind} is not shown as its short hash"


def test_every_event_still_parses_and_every_reference_resolves(scrubbed: Path) -> None:
    """What the trace viewer needs: JSON lines, JSON resources, and the files events name, all still there."""
    members = _members(scrubbed)
    referenced = []
    for name in ("trace.trace", "trace.network"):
        for line in members[name].decode().splitlines():
            event = json.loads(line) if line.strip() else {}
            referenced += [event["file"]] if event.get("type") == "screencast-frame" else []
            content = event.get("snapshot", {}).get("response", {}).get("content", {})
            referenced += ["resources/" + content["_sha1"]] if "_sha1" in content else []
    for name, data in members.items():
        if name.endswith(".json") or name == "trace.stacks":
            json.loads(data)
    missing = [name for name in referenced if name not in members]
    assert referenced and not missing, f"the scrubbed trace names members it no longer has: {missing}"


def test_binary_members_and_names_are_untouched(trace: Path, scrubbed: Path) -> None:
    before, after = _members(trace), _members(scrubbed)
    assert list(before) == list(after)
    images = [name for name in before if name.endswith((".jpeg", ".png"))]
    assert images, "the trace has no screenshots to compare"
    assert all(before[name] == after[name] for name in images)


def test_scrubbing_twice_changes_nothing(scrubbed: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.zip"
    again.write_bytes(scrubbed.read_bytes())
    scrub_trace(again)
    assert _members(again) == _members(scrubbed)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET /api/callback?code=abc123&state=xyz789 -> 302", "abc123"),
        ("Location: /app?token=tok-value-1", "tok-value-1"),
        ("Set-Cookie: hoop_access_token=cookie-value; Path=/", "cookie-value"),
        ("form: email=a%40b&password=hunter2hunter2&totp=123456", "hunter2hunter2"),
        ("form: email=a%40b&password=hunter2hunter2&totp=123456", "123456"),
        ("IDP_CLIENT_SECRET=s3cr3t-value started", "s3cr3t-value"),
        ('{"access_token": "opaque-value", "token_type": "Bearer"}', "opaque-value"),
        ("Authorization: Bearer abcdefgh12345678", "abcdefgh12345678"),
        ("refused ory_at_aaaa_bbbb-cc.dddd_eeee for user", "ory_at_aaaa_bbbb-cc.dddd_eeee"),
        ("id_token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl seen", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0"),
        ("Login(client=..., password='hunter2hunter2', email='a@b')", "hunter2hunter2"),
        ("password = 'hunter2hunter2'", "hunter2hunter2"),
        ("app = {'client_id': 'abc', 'client_secret': 'the-secret-value'}", "the-secret-value"),
    ],
)
def test_redact_text_finds_secrets_in_free_text(text: str, secret: str) -> None:
    redacted = redact_text(text)
    assert secret not in redacted and "<redacted:" in redacted
    assert redact_text(redacted) == redacted, "redacting twice must not hash the redaction"


def test_secrets_are_announced_only_while_a_run_listens() -> None:
    heard: list[tuple[str, str]] = []

    class Hook:
        def pytest_hoop_secret_seen(self, *, kind: str, value: str) -> None:
            heard.append((kind, value))

    seen("password", "not-heard")
    announce_to(Hook())
    try:
        seen("password", "pw-1")
        seen("token", "tok-1")
        seen("code", "")
    finally:
        announce_to(None)
    seen("token", "not-heard")
    assert heard == [("password", "pw-1"), ("token", "tok-1")]


def test_secrets_are_not_in_the_repr_of_users_and_sessions() -> None:
    """Tracebacks show a check's arguments by their repr: passwords, TOTP seeds and session tokens stay out of it."""
    user = IdpUser("u1", "a@example.com", "pw-in-repr?", "A", "B", ("g",), totp_secret="SEEDSEEDSEED")
    shown = repr(SignedIn(user=user, token="session-token-in-repr?"))
    assert "a@example.com" in shown
    assert not [secret for secret in ("pw-in-repr?", "SEEDSEEDSEED", "session-token-in-repr?") if secret in shown]
