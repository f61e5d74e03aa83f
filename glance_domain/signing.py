"""Image signature verification (Glance's ``img_signature*`` properties), as a stream rule.

An image carrying the four signature properties has its data checked against the signature
while it streams into a store: ``verified`` feeds every chunk to the verifier and checks the
signature when the data ends, raising from inside the stream, so the store never commits
data that does not verify and no second pass over the data is needed. The verifier is built
only when the first chunk is asked for (after every access check of the operation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from glance_domain.errors import SignatureVerificationFailed
from glance_domain.ports import SignatureVerifier

#: The properties that make an image signed (all four must be present, as in Glance).
SIGNATURE_PROPERTIES = ("img_signature", "img_signature_hash_method",
                        "img_signature_key_type", "img_signature_certificate_uuid")


def verified(data: Iterable[bytes], make_verifier: Callable[[], SignatureVerifier | None],
             image_id: str) -> Iterator[bytes]:
    """``data``, checked against the signature as it passes (Glance's texts on failure)."""
    try:
        verifier = make_verifier()
    except SignatureVerificationFailed as exc:
        raise _failed(image_id, exc) from None
    if verifier is None:
        yield from data
        return
    for chunk in data:
        verifier.update(chunk)
        yield chunk
    try:
        verifier.verify()
    except SignatureVerificationFailed as exc:
        raise _failed(image_id, exc) from None


def _failed(image_id: str, exc: SignatureVerificationFailed) -> SignatureVerificationFailed:
    return SignatureVerificationFailed(f"Signature verification failed for image {image_id}: "
                                       f"{exc}")
