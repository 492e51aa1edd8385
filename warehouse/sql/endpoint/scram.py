"""SCRAM-SHA-256 (RFC 5802, RFC 7677), the server's side, as PostgreSQL does it: the password
never crosses the wire, and the client checks that the server knows it too.

Pure: :class:`Exchange` takes the client's two messages and returns the server's; I/O is the
caller's. Channel binding is not offered (the endpoint speaks no TLS), so clients send ``n,,``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from lake.errors import SqlError

MECHANISM = "SCRAM-SHA-256"
ITERATIONS = 4096


class AuthenticationFailed(SqlError):
    """The client's proof does not match the password (or its messages are malformed)."""


def _hmac(key: bytes, text: bytes) -> bytes:
    return hmac.new(key, text, hashlib.sha256).digest()


def _attributes(text: str) -> dict[str, str]:
    parts = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep or len(key) != 1:
            raise AuthenticationFailed("malformed SCRAM message")
        parts[key] = value
    return parts


class Exchange:
    """One authentication: :meth:`first` answers client-first, :meth:`final` checks the proof
    and answers with the server's signature."""

    def __init__(self, password: str) -> None:
        self._salt = secrets.token_bytes(16)
        self._salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), self._salt,
                                           ITERATIONS)
        self._nonce = ""
        self._messages = ""

    def first(self, client_first: bytes) -> bytes:
        text = client_first.decode("utf-8", "replace")
        gs2, sep, bare = text.partition(",,")
        if not sep or gs2 not in ("n", "y"):  # "p=…" would ask for channel binding
            raise AuthenticationFailed("SCRAM channel binding is not supported here")
        nonce = _attributes(bare).get("r", "")
        if not nonce or len(nonce) > 256:
            raise AuthenticationFailed("malformed SCRAM message: no client nonce")
        self._nonce = nonce + base64.b64encode(secrets.token_bytes(18)).decode("ascii")
        server_first = (f"r={self._nonce},s={base64.b64encode(self._salt).decode('ascii')},"
                        f"i={ITERATIONS}")
        self._messages = f"{bare},{server_first}"
        return server_first.encode("ascii")

    def final(self, client_final: bytes) -> bytes:
        text = client_final.decode("utf-8", "replace")
        without_proof, sep, proof_part = text.rpartition(",p=")
        attributes = _attributes(without_proof) if sep else {}
        if attributes.get("r") != self._nonce or not self._nonce:
            raise AuthenticationFailed("SCRAM nonce mismatch")
        try:
            proof = base64.b64decode(proof_part, validate=True)
        except ValueError as err:
            raise AuthenticationFailed("malformed SCRAM proof") from err
        auth_message = f"{self._messages},{without_proof}".encode()
        client_key = _hmac(self._salted, b"Client Key")
        stored_key = hashlib.sha256(client_key).digest()
        signature = _hmac(stored_key, auth_message)
        if len(proof) != len(signature):
            raise AuthenticationFailed("malformed SCRAM proof")
        recovered = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
        if not hmac.compare_digest(hashlib.sha256(recovered).digest(), stored_key):
            raise AuthenticationFailed("wrong password")
        server_signature = _hmac(_hmac(self._salted, b"Server Key"), auth_message)
        return b"v=" + base64.b64encode(server_signature)
