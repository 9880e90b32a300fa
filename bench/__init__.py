"""``python -m bench``: token and userinfo throughput of the mock JumpCloud against oidc-provider-mock."""
