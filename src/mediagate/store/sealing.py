"""Secrets at rest: upstream credentials and webhook signing secrets are sealed with AES-256-GCM
under a key derived from the instance's secret (``secret.key`` or MEDIAGATE_SECRET_KEY), bound
to the row and column they belong to, so a copied database file, backup or dump holds no
usable credential, and a sealed value moved to another row does not open.

A value is stored as ``sealed:v1:<base64url(nonce | ciphertext | tag)>``. A value without
that prefix is one written before sealing existed: it is read as it is and sealed on start
(``KeyRepository.seal_plain`` and ``ChannelRepository.seal_plain``)."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "sealed:v1:"
NONCE = 12


class SealError(Exception):
    """A sealed value that does not open: another instance's secret, or tampered with."""


class Sealer:
    """Seals and opens short secrets. ``key`` is 32 bytes (``UrlSigner.derive``)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the sealing key must be 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, plain: str, where: str) -> str:
        """``plain`` sealed for the place ``where`` (e.g. ``channels.api_key:<id>``)."""
        nonce = os.urandom(NONCE)
        box = self._aead.encrypt(nonce, plain.encode(), where.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + box).decode()

    def open(self, stored: str, where: str) -> str:
        """The plain value; an unsealed (older) value is returned as it is."""
        if not is_sealed(stored):
            return stored
        try:
            raw = base64.urlsafe_b64decode(stored[len(PREFIX) :])
            return self._aead.decrypt(raw[:NONCE], raw[NONCE:], where.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise SealError(
                f"a sealed secret ({where.split(':')[0]}) does not open with this instance's "
                "secret key: was the database copied from another instance?"
            ) from exc


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)
