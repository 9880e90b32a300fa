"""The small HTML pages a person sees: ``/login`` and ``/callback``. Everything shown is escaped."""

from __future__ import annotations

from html import escape

from reference_gateway.store import User

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"

_STYLE = "body{font-family:sans-serif;margin:3em auto;max-width:36em}button{font-size:1.1em;padding:.5em 1.5em}"


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def login_page() -> str:
    """The sign-in page: one button that starts a login (a plain form, no script)."""
    return _page(
        "Sign in - reference gateway",
        "<h1>Reference gateway</h1>\n"
        '<form method="get" action="/login/start">'
        '<button type="submit" id="sign-in">Sign in</button></form>',
    )


def callback_page(*, user: User | None, role: str, error: str | None) -> str:
    """Who is signed in and their groups, or why nobody is."""
    if error is not None:
        body = f'<h1>Sign-in failed</h1>\n<p id="error">{escape(error)}</p>\n<p><a href="/login">Try again</a></p>'
    elif user is None:
        body = '<h1>Not signed in</h1>\n<p><a href="/login">Sign in</a></p>'
    else:
        groups = "".join(f"<li>{escape(group)}</li>" for group in user.groups) or "<li><em>none</em></li>"
        body = (
            "<h1>Signed in</h1>\n"
            f'<p>Signed in as <span id="name">{escape(user.name)}</span> '
            f'&lt;<span id="email">{escape(user.email)}</span>&gt;, '
            f'role <span id="role">{escape(role)}</span>.</p>\n'
            f'<h2>Groups</h2>\n<ul id="groups">{groups}</ul>'
        )
    return _page("Reference gateway", body)


def third_party_redirect_page(target: str) -> str:
    """A redirect through an HTML page that loads a third-party script (the ``redirect_via_html_page`` mutant)."""
    return _page(
        "Signing in...",
        f'<meta http-equiv="refresh" content="0;url={escape(target)}">'
        '<script src="https://cdn.analytics.example/tracker.js"></script>'
        f'<p><a href="{escape(target)}">Continue</a></p>',
    )
