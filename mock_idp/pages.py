"""HTML pages built like JumpCloud's: the login steps, the user portal, error and logout pages."""

from __future__ import annotations

from html import escape

from mock_idp.errors import OAuthError
from mock_idp.settings import AppSettings

STYLE = """
body{font-family:system-ui,sans-serif;background:#f4f6f8;margin:0}
main{max-width:380px;margin:8vh auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem} label{display:block;margin:.8rem 0 .3rem} input{width:100%;padding:.5rem;box-sizing:border-box}
button{margin-top:1rem;width:100%;padding:.6rem;background:#00a6a6;color:#fff;border:0;border-radius:4px}
button:disabled{background:#9cc} [role=alert]{color:#b00020;margin:.8rem 0}
.TotpInput{display:flex;gap:.4rem} .TotpInput__loginInput{width:2.4rem;text-align:center;font-size:1.3rem}
.AppTile{display:block;padding:1rem;margin:.5rem 0;border:1px solid #ccd;border-radius:6px}
"""


def _page(title: str, body: str, script: str = "") -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main>{f'<script>{script}</script>' if script else ''}</body></html>"
    )


def _alert(message: str | None) -> str:
    return f'<div role="alert">{escape(message)}</div>' if message else ""


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'


def email_page(action: str, challenge_id: str, error: str | None = None) -> str:
    """Step 1: the user's e-mail."""
    return _page(
        "User Login",
        f"""<h1>User Portal Login</h1>{_alert(error)}
<form method="post" action="{escape(action)}" data-test-id="UserLogin__EmailEntry">
{_hidden("login_challenge", challenge_id)}{_hidden("step", "email")}
<label for="email">Email</label>
<input id="email" name="email" type="email" aria-label="User Email Address" autocomplete="username" required autofocus>
<button type="submit" data-automation="loginButton">Continue</button>
</form>""",
    )


def password_page(action: str, challenge_id: str, email: str, error: str | None = None) -> str:
    """Step 2: the password; the button stays disabled until a password is typed."""
    return _page(
        "User Login",
        f"""<h1>User Portal Login</h1>{_alert(error)}
<div data-test-id="UserLogin__PasswordEntry">
<form method="post" action="{escape(action)}">
{_hidden("login_challenge", challenge_id)}{_hidden("step", "password")}{_hidden("email", email)}
<p data-test-id="UserLogin__Email">{escape(email)}</p>
<label for="password">Password</label>
<input id="password" name="password" type="password" aria-label="User Password"
 autocomplete="current-password" autofocus>
<button type="submit" data-automation="loginButton" disabled>Login</button>
</form></div>""",
        """const p=document.getElementById('password'),b=document.querySelector('[data-automation=loginButton]');
p.addEventListener('input',()=>{b.disabled=!p.value});""",
    )


def mfa_page(action: str, challenge_id: str, error: str | None = None) -> str:
    """Step 3: choose TOTP, then six one-digit inputs that submit themselves after the sixth digit."""
    digits = "".join(
        f'<input class="TotpInput__loginInput" inputmode="numeric" maxlength="1" autocomplete="one-time-code" '
        f'aria-label="Verification code digit {n}">'
        for n in range(1, 7)
    )
    return _page(
        "Verify your identity",
        f"""<h1>Verify your identity</h1>{_alert(error)}
<div data-test-id="UserLogin__MfaChooser" {"hidden" if error else ""}>
<button type="button" data-test-id="UserLogin__MfaChooser__MfaButtons__totp">Authenticator App</button>
</div>
<form method="post" action="{escape(action)}" data-test-id="UserLogin__Totp" {"" if error else "hidden"}>
{_hidden("login_challenge", challenge_id)}{_hidden("step", "totp")}{_hidden("totp", "")}
<label>Enter the 6-digit code from your authenticator app</label>
<div class="TotpInput">{digits}</div>
</form>""",
        """const chooser=document.querySelector('[data-test-id=UserLogin__MfaChooser]'),
form=document.querySelector('[data-test-id=UserLogin__Totp]'),
inputs=[...document.querySelectorAll('.TotpInput__loginInput')];
document.querySelector('[data-test-id=UserLogin__MfaChooser__MfaButtons__totp]').addEventListener('click',()=>{
chooser.hidden=true;form.hidden=false;inputs[0].focus();});
if(!form.hidden)inputs[0].focus();
inputs.forEach((input,i)=>input.addEventListener('input',()=>{
input.value=input.value.replace(/\\D/g,'').slice(-1);
if(input.value&&i<5)inputs[i+1].focus();
const code=inputs.map(x=>x.value).join('');
if(code.length===6){form.elements.totp.value=code;form.submit();}}));""",
    )


def error_page(error: OAuthError) -> str:
    """The page shown instead of redirecting to an untrusted redirect URI."""
    return _page(
        "An error occurred",
        f"""<h1>An error occurred</h1>
<div role="alert" data-error="{escape(error.error)}"><p><strong>{escape(error.error)}</strong></p>
<p>{escape(error.description)}</p><p>{escape(error.hint)}</p></div>""",
    )


def portal_page(email: str, apps: list[AppSettings]) -> str:
    """The user portal: a tile per app bound to one of the user's groups, opening the app's login URL."""
    tiles = "".join(
        f'<a class="AppTile" data-test-id="AppTile" href="{escape(app.login_url or "#")}">{escape(app.name)}</a>'
        for app in apps
    )
    return _page("User Portal", f"<h1>Applications</h1><p>{escape(email)}</p>{tiles or '<p>No applications.</p>'}")


def logged_out_page() -> str:
    """Shown after logout when no return address was given."""
    return _page("Logged out", "<h1>You have been logged out.</h1>")
