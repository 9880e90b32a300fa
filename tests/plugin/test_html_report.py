"""``report.html``: one row per check, working filters, a failure's evidence inline, every value escaped."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Dialog, Page, expect

from hoop_conformance.reporting.html import render_html

SCRIPT = "<script>alert('pwned')</script>"


def tiny_png(path: Path) -> None:
    """A 4x3 red PNG, written by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(3))
    header = struct.pack(">IIBBBBB", 4, 3, 8, 2, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    )


def check(id: str, level: str, status: str, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": id,
        "area": id.split("-")[0],
        "level": level,
        "ref": "OIDC Core §3.1.2.7",
        "requirement": f"requirement of {id}",
        "test": f"suites/test_x.py::test_{id.lower().replace('-', '_')}",
        "status": status,
        "expected": status,
        "unexpected": False,
        "expectation_reason": None,
        "message": "",
        "duration": 0.25,
        "figures": {},
        "evidence": None,
    }
    return {**entry, **extra}


def document() -> dict[str, Any]:
    failing_evidence = {
        "journal": [
            {
                "seq": 7,
                "time": 1700000000.5,
                "endpoint": "token",
                "method": "POST",
                "path": "/oauth2/token",
                "status": 200,
                "headers": {},
                "query": {},
                "form": {"grant_type": "authorization_code", "code": "<redacted:3f2a>"},
                "client_auth": "client_secret_basic",
                "client_id": "gw",
                "user_email": "alice@example.com",
            }
        ],
        "answers": ["GET /api/callback?state=forged -> 302 /login?error=none"],
        "gateway_log": "INFO callback accepted\nWARN state mismatch ignored",
        "screenshots": ["evidence/CB-04-0.png", "evidence/gone.png"],
        "traces": ["evidence/CB-04-1.zip"],
    }
    checks = [
        check("DISC-01", "MUST", "PASS"),
        check(
            "CB-04",
            "MUST",
            "FAIL",
            unexpected=True,
            expected="PASS",
            message="the gateway accepted a forged state",
            evidence=failing_evidence,
        ),
        check("CB-05", "SHOULD", "SKIP", message="needs a gateway of its own"),
        check("TOKEN-02", "MUST", "ERROR", unexpected=True, expected="PASS", message=SCRIPT, requirement=SCRIPT),
        check("GROUP-01", "CONTRACT", "FAIL", expected="FAIL", expectation_reason="known: groups as a string"),
        check("LOAD-01", "INFO", "PASS", figures={"median login": "212 ms"}),
    ]
    return {
        "schema_version": 1,
        "run": {
            "suite_version": "0.1.0",
            "gateway": {"mode": "command", "command": "./run-gateway.sh", "url": None, "version": "1.2.3"},
            "idp": {"mode": "mock", "issuer": "http://127.0.0.1:8090/"},
            "seed": 42,
            "started": "2024-05-01T10:00:00+00:00",
            "finished": "2024-05-01T10:01:30+00:00",
            "duration": 90.0,
            "options": {"workers": 2, "strict": False},
        },
        "gate": {"passed": False, "exit_status": 1, "strict": False, "reasons": ["CB-04 (MUST) failed: " + SCRIPT]},
        "counts": {
            "MUST": {"PASS": 1, "FAIL": 1, "ERROR": 1, "SKIP": 0},
            "SHOULD": {"PASS": 0, "FAIL": 0, "ERROR": 0, "SKIP": 1},
            "CONTRACT": {"PASS": 0, "FAIL": 1, "ERROR": 0, "SKIP": 0},
            "INFO": {"PASS": 1, "FAIL": 0, "ERROR": 0, "SKIP": 0},
        },
        "checks": checks,
    }


def written(tmp_path: Path) -> Path:
    tiny_png(tmp_path / "evidence" / "CB-04-0.png")
    page_path = tmp_path / "report.html"
    page_path.write_text(render_html(document(), tmp_path), encoding="utf-8")
    return page_path


def test_the_page_escapes_every_value_and_notes_a_missing_screenshot(tmp_path: Path) -> None:
    text = written(tmp_path).read_text(encoding="utf-8")
    assert SCRIPT not in text
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in text
    assert "evidence/gone.png</code> is missing" in text
    assert "playwright show-trace evidence/CB-04-1.zip" in text
    assert "http" not in text.replace("http://127.0.0.1:8090/", "")  # nothing fetched from elsewhere


def test_the_page_in_a_browser(tmp_path: Path, page: Page) -> None:
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto(written(tmp_path).as_uri())
    rows = page.locator("tr.check")
    expect(rows).to_have_count(len(document()["checks"]))
    expect(page.locator(".verdict")).to_contain_text("FAILED")
    expect(page.locator("#check-CB-04")).to_have_attribute("data-status", "FAIL")
    expect(page.locator("#check-LOAD-01")).to_contain_text("212 ms")

    page.get_by_label("MUST").uncheck()
    expect(page.locator("tr.check:visible")).to_have_count(3)
    expect(page.locator("#check-CB-04")).to_be_hidden()
    page.get_by_label("MUST").check()
    page.locator("input[name=status][value=PASS]").uncheck()
    expect(page.locator("tr.check:visible")).to_have_count(4)
    expect(page.locator("section[data-area=DISC]")).to_be_hidden()
    page.locator("input[name=status][value=PASS]").check()
    expect(page.locator("tr.check:visible")).to_have_count(6)

    page.get_by_text("Evidence for CB-04").click()
    journal = page.locator("tr.journal-entry")
    expect(journal).to_contain_text("/oauth2/token")
    expect(journal).to_contain_text("client_secret_basic")
    expect(journal).to_contain_text("code=<redacted:3f2a>")
    image = page.locator("img.screenshot")
    expect(image).to_be_visible()
    assert (image.get_attribute("src") or "").startswith("data:image/png;base64,")
    assert image.evaluate("img => img.naturalWidth") == 4

    page.get_by_text("Evidence for TOKEN-02").click()
    expect(page.locator("#check-TOKEN-02")).to_contain_text(SCRIPT)
    expect(page.get_by_text(SCRIPT, exact=True).first).to_be_visible()
    page.screenshot(path=tmp_path / "report.png", full_page=True)
    assert dialogs == []


def test_without_javascript_every_row_shows(tmp_path: Path, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(written(tmp_path).as_uri())
        expect(page.locator("tr.check:visible")).to_have_count(len(document()["checks"]))
        expect(page.locator("#filters")).to_be_hidden()
    finally:
        context.close()


def test_the_page_links_what_the_last_load_run_left(tmp_path: Path) -> None:
    assert "Capacity (./run load)" not in render_html(document(), tmp_path), "no load run, no section"
    (tmp_path / "load").mkdir()
    (tmp_path / "load" / "summary.txt").write_text("gateway: 1.0 logins/s\n")
    (tmp_path / "load" / "capacity.png").write_bytes(b"")
    html = render_html(document(), tmp_path)
    assert '<a href="load/summary.txt">' in html and '<a href="load/capacity.png">' in html
    assert 'href="load/capacity.md"' not in html, "only what exists is linked"
