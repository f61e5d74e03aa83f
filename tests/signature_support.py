"""Real keys and X.509 certificates for signature verification tests, and a castellan key
manager that holds them in memory (``[key_manager] backend =
tests.signature_support.MemoryKeyManager``; castellan loads a backend by class path)."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any, ClassVar

from castellan.common import exception as castellan_errors
from castellan.common.objects import x_509
from castellan.key_manager import key_manager
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.x509.oid import NameOID

HASHES = {"SHA-224": hashes.SHA224(), "SHA-256": hashes.SHA256(),
          "SHA-384": hashes.SHA384(), "SHA-512": hashes.SHA512()}


def private_key(key_type: str) -> Any:
    if key_type == "RSA-PSS":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "DSA":
        return dsa.generate_private_key(key_size=2048)
    if key_type == "ECC_SECP384R1":
        return ec.generate_private_key(ec.SECP384R1())
    if key_type == "ECC_SECP521R1":
        return ec.generate_private_key(ec.SECP521R1())
    raise ValueError(key_type)


def certificate(key: Any, *, not_before: dt.datetime | None = None,
                not_after: dt.datetime | None = None) -> bytes:
    """A self-signed certificate of ``key`` (DER), valid around now unless told otherwise."""
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "glance-domain test signer")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - dt.timedelta(days=1))
            .not_valid_after(not_after or now + dt.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


def sign(key: Any, key_type: str, hash_method: str, data: bytes) -> str:
    """Base64 signature of ``data`` as Glance's users make it (what img_signature holds)."""
    digest = HASHES[hash_method]
    if key_type == "RSA-PSS":
        raw = key.sign(data, padding.PSS(mgf=padding.MGF1(digest),
                                         salt_length=padding.PSS.MAX_LENGTH), digest)
    elif key_type == "DSA":
        raw = key.sign(data, digest)
    else:
        raw = key.sign(data, ec.ECDSA(digest))
    return base64.b64encode(raw).decode()


class MemoryKeyManager(key_manager.KeyManager):
    """Certificates by id, in this process (tests add them with ``add``)."""

    CERTIFICATES: ClassVar[dict[str, bytes]] = {}

    def __init__(self, configuration: Any) -> None:
        super().__init__(configuration)

    @classmethod
    def add(cls, der: bytes) -> str:
        cert_id = str(uuid.uuid4())
        cls.CERTIFICATES[cert_id] = der
        return cert_id

    def get(self, context: Any, managed_object_id: str, metadata_only: bool = False) -> Any:
        if managed_object_id not in self.CERTIFICATES:
            raise castellan_errors.ManagedObjectNotFoundError(uuid=managed_object_id)
        return x_509.X509(self.CERTIFICATES[managed_object_id])

    def create_key(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def create_key_pair(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def store(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def add_consumer(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def remove_consumer(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def list(self, *args: Any, **kwargs: Any) -> Any:
        return []
