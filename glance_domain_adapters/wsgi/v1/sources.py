"""Where a v1 create/update gets its data: the body, ``x-image-meta-location`` or
``x-glance-api-copy-from`` -- each mapped onto the v2 operation that does the same.

- a body: ``upload_data`` (the md5 of the bytes is checked against ``x-image-meta-checksum``
  while they stream, so a mismatch aborts the upload before anything is kept);
- a location: ``add_location`` (v2's add-location rules: service role or an http store's URL,
  URI filtering; no file:// or other restricted schemes for anyone else);
- copy-from: a ``web-download`` import (only where that method is enabled; its URI filtering
  applies), otherwise 400 as v1's "External sources are not supported".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from glance_domain.errors import Forbidden, InvalidInput, NotFound
from glance_domain.importing.request import WEB_DOWNLOAD, ImportRequest
from glance_domain.model.image import Image
from glance_domain_adapters.wsgi.errors import bad_request
from glance_domain_adapters.wsgi.http import Request
from glance_domain_adapters.wsgi.resource import has_body
from glance_domain_adapters.wsgi.settings import ApiSettings
from glance_domain_adapters.wsgi.upload_body import iter_upload_body
from glance_domain_adapters.wsgi.v1.meta import V1Meta

COPY_FROM = "X-Glance-Api-Copy-From"
OCTET_STREAM = "application/octet-stream"


class Mismatch(Exception):
    """The uploaded bytes do not have the size or md5 the client announced."""

    def __init__(self, attr: str, supplied: object, actual: object) -> None:
        super().__init__(f"Supplied {attr} ({supplied}) and {attr} generated from uploaded "
                         f"image ({actual}) did not match.")


def _checked(chunks: Iterable[bytes], size: int | None, md5sum: str | None) -> Iterator[bytes]:
    """``chunks`` unchanged; raises :class:`Mismatch` instead of ending (or as soon as there
    are more bytes than ``size``) when they are not what was announced, so the store discards
    the upload and the image stays queued."""
    md5 = hashlib.md5(usedforsecurity=False)
    count = 0
    for chunk in chunks:
        count += len(chunk)
        if size is not None and count > size:
            raise Mismatch("size", size, f"more than {size}")
        md5.update(chunk)
        yield chunk
    if size is not None and count != size:
        raise Mismatch("size", size, count)
    if md5sum is not None and md5.hexdigest() != md5sum:
        raise Mismatch("checksum", md5sum, md5.hexdigest())


def copy_from(req: Request) -> str | None:
    return req.header(COPY_FROM)


def check_sources(req: Request, meta: V1Meta, api: ApiSettings) -> bool:
    """Validate the request's data source before anything changes; True when it has a body."""
    body = has_body(req)
    location = meta.fields.get("location")
    source = copy_from(req)
    if sum(1 for s in (body, location is not None, source is not None) if s) > 1:
        raise bad_request("It's invalid to provide multiple image sources.")
    if source is not None:
        if not source:
            raise bad_request("External source should not be empty")
        if WEB_DOWNLOAD not in (api.enabled_import_methods or ()):
            raise bad_request(f"External sources are not supported: '{source}'")
    if location is not None and not location:
        raise bad_request("External source should not be empty")
    if body and req.content_type != OCTET_STREAM:
        raise bad_request("Content-Type must be application/octet-stream")
    return body


def apply_source(req: Request, image: Image, meta: V1Meta, api: ApiSettings) -> Image:
    """Give ``image`` the request's data (see module docstring); returns the image after."""
    svc = req.service
    location = meta.fields.get("location")
    source = copy_from(req)
    try:
        if location is not None:
            return svc.add_location(image.id, str(location))
        if source is not None:
            svc.import_image(image.id, ImportRequest(
                method=WEB_DOWNLOAD, uri=source, store_header=meta.fields.get("store"),
                body={"method": {"name": WEB_DOWNLOAD, "uri": source}}))
            return svc.get_image(image.id)
    except (Forbidden, InvalidInput, NotFound) as err:
        # v2 would not let this caller do the same (add-location or web-download rules)
        url = location if location is not None else source
        reason = err.message or "refused"
        raise bad_request(f"External sources are not supported: '{url}' ({reason})") from None
    if not has_body(req):
        return image
    backend = meta.fields.get("store")
    if backend is not None and backend not in {b.id for b in svc.stores()}:
        raise bad_request(f"Store for scheme {backend} not found")
    supplied = meta.fields.get("size")
    length = req.content_length if req.transfer_encoding != "chunked" else None
    if supplied is not None and length is not None and supplied != length:
        raise bad_request(str(Mismatch("size", supplied, length)))
    chunks: Iterable[bytes] = iter_upload_body(req)
    checksum = meta.fields.get("checksum")
    if supplied is not None or checksum:
        chunks = _checked(chunks, supplied, str(checksum) if checksum else None)
    try:
        return svc.upload_data(image.id, chunks, size=length, backend=backend)
    except Mismatch as exc:
        raise bad_request(str(exc)) from None
    except OSError as exc:
        raise bad_request(f"Error reading the image data from the request: {exc}") from None
