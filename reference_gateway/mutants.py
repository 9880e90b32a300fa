"""The mutant registry: named faults that each break one rule of the contract.

A mutant exists only to prove the suite: running the suite against the gateway
with ``REFGW_MUTANT=<name>`` must make every check listed for it fail, and every
check listed as its ``passes`` still pass. None is ever on by default.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Mutant:
    """One named fault: what it breaks, the checks that must catch it, and those that must not."""

    name: str
    description: str
    checks: tuple[str, ...]
    passes: tuple[str, ...] = ()
    """Checks that must still pass under the mutant: proof that a check does not judge another's business."""


def _m(name: str, checks: str, description: str, *, passes: str = "") -> Mutant:
    return Mutant(name=name, description=description, checks=tuple(checks.split()), passes=tuple(passes.split()))


MUTANTS: dict[str, Mutant] = {
    m.name: m
    for m in (
        # discovery and keys
        _m("strip_issuer_slash", "DISC-01", "drops the issuer's trailing slash before comparing it"),
        _m("skip_issuer_match", "DISC-02", "accepts a discovery document whose issuer differs"),
        _m("discovery_failure_sticky", "DISC-03", "after one failed discovery fetch, never fetches again"),
        _m("jwks_failure_sticky", "DISC-04", "after one failed JWKS fetch, never fetches again"),
        _m("jwks_cached_forever", "DISC-05", "keeps the first JWKS forever (no refetch on a new kid)"),
        _m("skip_signature_on_unknown_kid", "DISC-06", "accepts an ID token whose kid is not in the JWKS unverified"),
        _m("hardcoded_endpoints", "DISC-07", "uses JumpCloud's default endpoint paths instead of the discovered ones"),
        _m(
            "default_userinfo_path_on_api",
            "DISC-07",
            "on the API path, asks userinfo at JumpCloud's default path instead of the discovered one",
        ),
        _m("no_discovery_timeout", "DISC-09", "fetches discovery without a timeout (Hoop's behaviour)"),
        # starting a login
        _m("login_redirects", "LOGIN-01", "/api/login answers 307 to the IdP instead of 200 {login_url}"),
        _m("scope_openid_only", "LOGIN-02", "asks only for scope=openid (no profile, email)"),
        _m("short_state", "LOGIN-03", "uses a 32-bit state"),
        _m("no_pkce", "LOGIN-04", "sends no code_challenge and no code_verifier"),
        _m("no_nonce", "LOGIN-05", "sends no nonce"),
        _m("no_redirect_check", "LOGIN-06 LOGIN-07 LOGIN-08", "accepts any redirect"),
        _m("redirect_substring_match", "LOGIN-07", "accepts a redirect that merely contains the API host"),
        _m("redirect_host_only", "LOGIN-08", "compares only the redirect's host name (Hoop's behaviour)"),
        _m("ignore_custom_scopes", "LOGIN-09", "ignores IDP_CUSTOM_SCOPES"),
        _m("no_login_page", "LOGIN-10", "serves no /login page (the IdP portal tile leads nowhere)"),
        # the callback
        _m(
            "ignore_stored_redirect", "CB-01", "after login sends the browser to API_URL/ instead of the requested page"
        ),
        _m("client_secret_post", "CB-02", "sends the client secret in the token request body"),
        _m("ignore_idp_error", "CB-03", "ignores error= on the callback and exchanges the (absent) code anyway"),
        _m("skip_state_check", "CB-04 CB-05", "accepts a missing or unknown state"),
        _m("state_reusable", "CB-06", "never consumes a state"),
        _m("state_not_browser_bound", "CB-07", "does not require the browser-binding cookie on the callback"),
        _m("second_session_on_replay", "CB-08", "answers a replayed callback URL with the first login's session"),
        _m("accept_any_signature", "CB-09 DISC-06", "does not verify ID token signatures"),
        _m("accept_alg_none", "CB-10", "accepts ID tokens with alg none"),
        _m("accept_hs256", "CB-11", "accepts HS256 ID tokens keyed with the client secret"),
        _m("skip_iss_check", "CB-12", "does not check the ID token's iss"),
        _m(
            "iss_ignores_trailing_slash",
            "CB-12",
            "compares the ID token's iss with the issuer ignoring a trailing slash",
        ),
        _m("skip_aud_check", "CB-13", "does not check that aud holds the client id"),
        _m("allow_missing_aud", "CB-32", "accepts an ID token without aud (a wrong aud is still refused)"),
        _m("allow_missing_iss", "CB-33", "accepts an ID token without iss (a wrong iss is still refused)"),
        _m("require_kid", "CB-34", "refuses an ID token whose header has no kid, even when the JWKS holds one key"),
        _m("allow_extra_aud", "CB-14", "accepts extra audiences beside the client id"),
        _m("skip_azp_check", "CB-15", "does not check azp"),
        _m("skip_exp_check", "CB-16", "accepts expired ID tokens"),
        _m("exp_leeway_30min", "CB-16", "allows 30 minutes of clock skew on the ID token's exp"),
        _m("allow_missing_exp", "CB-17", "accepts ID tokens without exp"),
        _m("skip_iat_check", "CB-18", "accepts a missing or future iat"),
        _m("iat_future_leeway_hour", "CB-18", "accepts an iat up to an hour in the future"),
        _m("skip_nonce_check", "CB-19", "does not compare the ID token's nonce"),
        _m("no_id_token_required", "CB-20", "accepts a token response without id_token"),
        _m("token_error_unhandled", "CB-21", "lets a token endpoint failure escape as a 500"),
        _m("no_token_timeout", "CB-22", "calls the token endpoint without a timeout"),
        _m("trust_userinfo_sub", "CB-23", "takes the subject from userinfo without comparing it to the ID token"),
        _m("link_unverified_email", "CB-24", "links an unverified e-mail to an existing account"),
        _m(
            "hoop_email_linking",
            "CB-24",
            "signs an unverified claimant of an account's e-mail in to that account, keeping its name, syncing its "
            "groups and taking the claimant's sub; shows the sub as the user id (Hoop's behaviour)",
            passes="CB-25",
        ),
        _m("no_lowercase_email", "CB-25", "stores and matches e-mails as given"),
        _m("reflect_error_description", "CB-26", "echoes the IdP's error_description unescaped in HTML"),
        _m("ignore_inactive_at_login", "CB-27", "lets inactive users log in"),
        _m(
            "session_before_inactive_check",
            "CB-27",
            "stores the token and sets the session cookie before refusing an inactive user (Hoop's behaviour)",
        ),
        _m("allow_missing_sub", "CB-28", "takes the subject from userinfo when the ID token has none"),
        _m(
            "retry_token_with_post",
            "CB-29",
            "after a failed code exchange, sends the same code again with client_secret_post (Go's auto-detection)",
        ),
        _m(
            "malformed_state_500",
            "CB-30",
            "answers 500 to a missing or malformed state (Hoop's uuid column)",
            passes="CB-05",
        ),
        _m(
            "callback_idp_failure_500",
            "CB-31",
            "fetches discovery and JWKS before the state lookup and answers 500 when that fails (Hoop's behaviour)",
        ),
        # the session
        _m("token_in_url", "SESS-01", "hands the browser its token as ?token= instead of a cookie"),
        _m("no_cli_token_handover", "SESS-02", "sets a cookie instead of ?token= for the CLI listener"),
        _m("cookie_not_httponly", "SESS-03", "session cookie without HttpOnly"),
        _m("cookie_no_samesite", "SESS-03", "session cookie without SameSite"),
        _m("cookie_path_api", "SESS-03", "session cookie with Path=/api"),
        _m("cookie_never_secure", "SESS-04", "session cookie never Secure, even behind HTTPS"),
        _m(
            "redirect_via_html_page",
            "SESS-05",
            "answers the callback with an HTML page that loads a third-party script",
        ),
        _m("accept_query_token", "SESS-06", "accepts ?access_token= in place of the Authorization header"),
        # the API token
        _m(
            "skip_userinfo_validation",
            "TOKEN-01 TOKEN-02 TOKEN-03 TOKEN-10",
            "accepts any token it issued without asking userinfo",
        ),
        _m("cache_userinfo_forever", "TOKEN-02 TOKEN-03 TOKEN-10", "caches a good userinfo answer forever"),
        _m("accept_userinfo_errors", "TOKEN-04 LOAD-02", "fails open when userinfo answers 5xx or 429"),
        _m(
            "trust_unparseable_userinfo",
            "TOKEN-05",
            "fails open when userinfo answers 200 with a body that is not JSON",
        ),
        _m("no_userinfo_timeout", "TOKEN-06", "calls userinfo without a timeout"),
        _m(
            "unknown_tokens_unregistered", "TOKEN-07", "lets a token it never handed out in as an 'unregistered' caller"
        ),
        _m("accept_foreign_tokens", "TOKEN-08", "accepts tokens it did not obtain, mapping them by userinfo sub"),
        _m("lenient_authorization_header", "TOKEN-09", "accepts any case of 'bearer' and any whitespace"),
        _m("crash_on_malformed_jwt", "TOKEN-09", "lets a malformed three-part token escape as a 500"),
        _m("trust_jwt_access_tokens", "TOKEN-11", "accepts JWT access tokens on their claims, unverified"),
        _m(
            "accept_any_signed_jwt",
            "TOKEN-11",
            "accepts any unexpired JWT signed by the IdP as a session, reading only its sub (Hoop's behaviour)",
        ),
        # groups and roles
        _m("groups_first_only", "GROUP-01", "keeps only the first group of an array claim"),
        _m("groups_string_ignored", "GROUP-02", "ignores a groups claim that is a single string"),
        _m("groups_sync_on_create_only", "GROUP-03 GROUP-04", "sets groups only when the user is created"),
        _m("groups_merge", "GROUP-04", "adds the IdP's groups to the old ones instead of replacing them"),
        _m("ignore_empty_array", "GROUP-05", "leaves groups unchanged when the claim is an empty array"),
        _m("clear_on_absent", "GROUP-06", "clears groups when the claim is absent"),
        _m("groups_keep_non_strings", "GROUP-07", "keeps empty and non-string entries (as text)"),
        _m("no_dedupe", "GROUP-07", "keeps duplicate groups"),
        _m("groups_case_fold", "GROUP-08", "lower-cases group names"),
        _m("admin_role_never_granted", "GROUP-09", "never grants the admin role from a group"),
        _m("keep_admin", "GROUP-10", "keeps admin when the IdP removed it (Hoop's behaviour)"),
        _m("auditor_is_admin", "GROUP-11", "lets auditors pass admin-only routes"),
        _m("admin_routes_open", "GROUP-12", "lets every user pass admin-only routes"),
        _m(
            "admin_group_lookalikes",
            "GROUP-12",
            "grants admin (auditor) for a group equal to the admin (auditor) group's name in another case or with "
            "spaces around",
        ),
        _m("ignore_groups_claim_setting", "GROUP-13", "always reads the default groups claim"),
        _m("no_first_admin", "GROUP-14", "does not make the first user an admin"),
        # load
        _m("single_pending_login", "LOAD-01", "a new login invalidates every pending one"),
        _m("leak_per_login", "LOAD-05", "keeps 32 KB of memory behind for every completed login"),
        # the IdP over HTTPS
        _m(
            "tls_no_verify",
            "TLS-01 TLS-02",
            "does not verify the IdP's certificate at all",
            passes="TLS-03",
        ),
        _m(
            "tls_no_hostname_check",
            "TLS-02",
            "verifies the IdP's certificate chain but not that it names the IdP's host",
            passes="TLS-01 TLS-03",
        ),
        _m(
            "tls_ignore_ca_file",
            "TLS-03",
            "does not read SSL_CERT_FILE: trusts only a bundle of public CAs (httpx's certifi default)",
        ),
    )
}


class UnknownMutant(ValueError):
    """``REFGW_MUTANT`` named a mutant that does not exist."""


def parse_mutants(value: str) -> frozenset[str]:
    """The mutant names in a comma-separated ``REFGW_MUTANT`` value, validated."""
    names = frozenset(part.strip() for part in value.split(",") if part.strip())
    unknown = sorted(names - MUTANTS.keys())
    if unknown:
        raise UnknownMutant(f"unknown mutant {', '.join(unknown)} (see --list-mutants)")
    return names


def covered_checks() -> set[str]:
    """Every check id that at least one mutant must make fail."""
    return {check for mutant in MUTANTS.values() for check in mutant.checks}


def _listed(mutant: Mutant, width: int) -> str:
    line = f"{mutant.name:<{width}}  {','.join(mutant.checks):<36}  {mutant.description}"
    return f"{line}; must still pass {','.join(mutant.passes)}" if mutant.passes else line


def listing() -> str:
    """One line per mutant: name, the checks it must make fail, what it breaks, and the checks it must still pass."""
    width = max(len(name) for name in MUTANTS)
    return "\n".join(_listed(m, width) for m in MUTANTS.values())
