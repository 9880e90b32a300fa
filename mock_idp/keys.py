"""The RSA signing keys: several in the JWKS, one signing, rotation on demand."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


@dataclass(frozen=True)
class SigningKey:
    """One RSA key pair with its ``kid``."""

    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh 2048-bit key with a random ``kid``."""
        return cls(
            kid=secrets.token_hex(16), private_key=rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK with ``kid``, ``use`` and ``alg``."""
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.update(kid=self.kid, use="sig", alg="RS256")
        return jwk

    def public_pem(self) -> bytes:
        """The public key in PEM, as an attacker would use it for an HS256 confusion."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None, *, with_kid: bool = True) -> str:
        """An RS256 JWS of ``claims`` with this key's ``kid`` in its header (none when not ``with_kid``)."""
        kid = {"kid": self.kid} if with_kid else {}
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={**kid, **(headers or {})})


class KeyRing:
    """The published keys; the first one signs."""

    def __init__(self, count: int) -> None:
        self.keys = [SigningKey.generate() for _ in range(count)]

    @property
    def signing(self) -> SigningKey:
        """The key new tokens are signed with."""
        return self.keys[0]

    def jwks(self) -> dict[str, Any]:
        """The JWKS document."""
        return {"keys": [key.public_jwk() for key in self.keys]}

    def rotate(self, *, keep_old: bool) -> SigningKey:
        """Put a new signing key first; drop the old signing key unless ``keep_old``."""
        new = SigningKey.generate()
        self.keys = [new, *self.keys] if keep_old else [new, *self.keys[1:]]
        return new

    def find(self, kid: str) -> SigningKey | None:
        """The published key with ``kid``, if any."""
        return next((key for key in self.keys if key.kid == kid), None)
