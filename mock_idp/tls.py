"""HTTPS for the mock: a throwaway CA per run (trustme) and the server certificate a TLS mode asks for.

Whatever the mode, the CA the mock reports (``ca_file``) is the one a client should trust; the mode only
changes what is served: ``good`` a certificate for the mock's host names from that CA, ``wrong-host``
one from that CA for another name, ``untrusted-ca`` one for the right names from a second CA nobody is
given. A certificate given with ``tls_cert``/``tls_key`` is served as it is, and ``tls_ca`` is reported.
"""

from __future__ import annotations

import os
import re
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import trustme

from mock_idp.errors import SettingsError
from mock_idp.settings import MockIdpSettings

WRONG_HOST = "not-the-idp.invalid"
"""The only name on a ``wrong-host`` certificate: under ``.invalid`` (RFC 2606), so it can never be the mock's."""
LOOPBACK_NAMES = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class TlsFiles:
    """The files uvicorn serves and the CA file the mock reports; ``directory`` is the mock's own, if any."""

    certfile: Path
    """The server certificate and its chain (PEM)."""
    keyfile: Path
    """The server certificate's private key (PEM)."""
    ca_file: Path | None
    """The CA a client should trust (absolute); None for a given certificate without ``tls_ca``."""
    serving_ca_file: Path | None
    """The CA that signed what is served: ``ca_file`` but in ``untrusted-ca`` mode, where it is the other CA (for
    the suite's own clients, which must reach the mock's APIs whatever the gateway is shown)."""
    directory: Path | None
    """Where generated files live (the server key readable by its owner only), removed by ``remove``; None for a
    given certificate."""

    def remove(self) -> None:
        """Delete the generated files (a given certificate is left alone)."""
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


def server_names(settings: MockIdpSettings) -> tuple[str, ...]:
    """The names a good certificate carries: loopback, the listening host and the issuer's host, each once."""
    issuer_host = urlsplit(settings.issuer_for(0)).hostname or ""
    names = (*LOOPBACK_NAMES, settings.host, issuer_host)
    return tuple(dict.fromkeys(name for name in names if name))


def prepare(settings: MockIdpSettings) -> TlsFiles:
    """The TLS files for ``settings`` (which have ``tls`` on); ``SettingsError`` names a file that will not load."""
    if settings.tls_cert is not None and settings.tls_key is not None:
        return _given(settings.tls_cert, settings.tls_key, settings.tls_ca)
    directory = Path(tempfile.mkdtemp(prefix="mock-idp-tls-"))
    try:
        return _generate(settings, directory)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def _generate(settings: MockIdpSettings, directory: Path) -> TlsFiles:
    trusted = trustme.CA(organization_name="mock-idp trusted CA")
    signer = trustme.CA(organization_name="mock-idp untrusted CA") if settings.tls_mode == "untrusted-ca" else trusted
    names = (WRONG_HOST,) if settings.tls_mode == "wrong-host" else server_names(settings)
    try:
        leaf = signer.issue_cert(*names)
    except ValueError as error:  # a host name IDNA cannot encode
        raise SettingsError(f"cannot make a certificate for {', '.join(names)}: {error}") from None
    files = TlsFiles(
        certfile=directory / "server.pem",
        keyfile=directory / "server-key.pem",
        ca_file=directory / "ca.pem",
        serving_ca_file=directory / ("untrusted-ca.pem" if signer is not trusted else "ca.pem"),
        directory=directory,
    )
    directory.chmod(0o755)  # a gateway running as another user can read the CA; the CAs' keys never leave memory
    trusted.cert_pem.write_to_path(str(files.ca_file))
    signer.cert_pem.write_to_path(str(files.serving_ca_file))
    files.certfile.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    with os.fdopen(os.open(files.keyfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as key:
        key.write(leaf.private_key_pem.bytes())
    return files


def _given(cert: str, key: str, ca: str | None) -> TlsFiles:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        reason = _reason(error, "not a PEM certificate and its key")
        raise SettingsError(f"tls_cert {cert} with tls_key {key}: cannot load them: {reason}") from None
    if ca is not None:
        try:
            ssl.create_default_context(cafile=ca)
        except (OSError, ssl.SSLError) as error:
            reason = _reason(error, "no PEM certificate in it")
            raise SettingsError(f"tls_ca {ca}: cannot load it as a CA certificate: {reason}") from None
    ca_file = None if ca is None else Path(ca).absolute()
    return TlsFiles(
        certfile=Path(cert).absolute(),
        keyfile=Path(key).absolute(),
        ca_file=ca_file,
        serving_ca_file=ca_file,
        directory=None,
    )


def _reason(error: OSError, bad_content: str) -> str:
    """Why a file did not load: the reason for an unreadable file; ``bad_content`` and OpenSSL's for a bad one."""
    if isinstance(error, ssl.SSLError):
        return f"{bad_content} ({re.sub(r' [(]_ssl[.]c:[0-9]+[)]$', '', error.strerror or str(error))})"
    return error.strerror or str(error)
