"""What every route handler needs: the settings, the store, the IdP client and the authenticator."""

from __future__ import annotations

from dataclasses import dataclass

from reference_gateway.auth import Authenticator
from reference_gateway.oidc import IdpClient
from reference_gateway.settings import Settings
from reference_gateway.store import Store


@dataclass(frozen=True, kw_only=True)
class Gateway:
    """The running gateway's parts, kept on ``app.state.gateway``."""

    settings: Settings
    store: Store
    idp: IdpClient
    auth: Authenticator
