"""``CursiveSignatures``: the ``ImageSignatures`` port over cursive and a castellan key manager.

As Glance: an image with the four ``img_signature*`` properties is verified with the public key
of the X.509 certificate ``img_signature_certificate_uuid`` names in the key manager
(``[key_manager] backend``, castellan's options: Barbican by default, Vault, or any castellan
backend class), using ``img_signature_hash_method`` (SHA-224/256/384/512) and
``img_signature_key_type`` (``RSA-PSS``, ``ECC_*`` curves, ``DSA``). Error texts are cursive's,
as Glance shows them. Beyond Glance, a certificate outside its validity dates is refused.
"""

from __future__ import annotations

import threading
from typing import Any

from castellan import key_manager
from castellan.common import exception as castellan_errors
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cursive import certificate_utils, signature_utils
from cursive import exception as cursive_errors
from oslo_config import cfg

from glance_domain.context import RequestContext
from glance_domain.errors import SignatureVerificationFailed
from glance_domain.model.image import Image


class _Verifier:
    """cursive's verifier behind the domain's ``SignatureVerifier`` port."""

    def __init__(self, verifier: Any) -> None:
        self._verifier = verifier

    def update(self, chunk: bytes) -> None:
        self._verifier.update(chunk)

    def verify(self) -> None:
        try:
            self._verifier.verify()
        except InvalidSignature:
            raise SignatureVerificationFailed("Signature verification failed") from None


def _refused(reason: str) -> SignatureVerificationFailed:
    return SignatureVerificationFailed(
        str(cursive_errors.SignatureVerificationError(reason=reason)))


class CursiveSignatures:
    """Builds verifiers from the configured key manager (created on first use)."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self._conf = conf
        self._manager: Any = None
        self._lock = threading.Lock()

    def _key_manager(self) -> Any:
        with self._lock:
            if self._manager is None:
                self._manager = key_manager.API(self._conf)
            return self._manager

    def verifier_for(self, context: RequestContext, image: Image) -> _Verifier | None:
        props = image.extra_properties
        if not signature_utils.should_create_verifier(props):
            return None
        try:
            signature = signature_utils.get_signature(props[signature_utils.SIGNATURE])
            hash_method = signature_utils.get_hash_method(props[signature_utils.HASH_METHOD])
            key_type = signature_utils.SignatureKeyType.lookup(props[signature_utils.KEY_TYPE])
            certificate = self._certificate(context, str(props[signature_utils.CERT_UUID]))
            public_key = certificate.public_key()
            if not isinstance(public_key, key_type.public_key_type):
                raise _refused(f"Invalid public key type for signature key type: "
                               f"{key_type.name}")
            return _Verifier(key_type.create_verifier(signature, hash_method, public_key))
        except cursive_errors.SignatureVerificationError as exc:
            raise SignatureVerificationFailed(str(exc)) from None

    def _certificate(self, context: RequestContext, uuid: str) -> x509.Certificate:
        try:
            managed = self._key_manager().get(context, uuid)
        except castellan_errors.ManagedObjectNotFoundError:
            raise _refused(f"Certificate not found with ID: {uuid}") from None
        except Exception:  # any backend failure (Barbican down, bad credentials...)
            raise _refused(f"Unable to retrieve certificate with ID: {uuid}") from None
        if getattr(managed, "format", None) != signature_utils.X_509:
            raise _refused(f"Invalid certificate format: {getattr(managed, 'format', None)}")
        try:
            certificate = x509.load_der_x509_certificate(managed.get_encoded())
        except ValueError:
            raise _refused(f"Invalid certificate format: {signature_utils.X_509}") from None
        if not certificate_utils.is_within_valid_dates(certificate):
            raise _refused(
                f"Certificate {uuid} is not valid now (valid from "
                f"{certificate.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ} to "
                f"{certificate.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ})")
        return certificate
