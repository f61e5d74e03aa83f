"""``PUT``/``GET /v2/images/{id}/file`` (and ``PUT .../stage``): streaming image data.

Uploads stream the request body to the service as an iterator of chunks (Content-Length or
chunked), never reading it whole. Downloads honour a single ``Range`` (or the legacy request
``Content-Range``) like Glance: 206 + ``Content-Range``, 416 for an unsatisfiable start, 400 for
several ranges; 204 when the image has no data; ``wsgi.file_wrapper`` when the store gives a file.
"""

from __future__ import annotations

from typing import Any

import webob.byterange

from glance_domain.ports import DataStream
from glance_domain.service import ImageDownload
from glance_domain_adapters.wsgi.errors import bad_request, http_error
from glance_domain_adapters.wsgi.http import (
    ClosingIterator,
    Request,
    Response,
    bare_response,
    empty_response,
)
from glance_domain_adapters.wsgi.resource import Resource
from glance_domain_adapters.wsgi.settings import ApiSettings
from glance_domain_adapters.wsgi.upload_body import iter_upload_body

OCTET_STREAM = "application/octet-stream"
BLOCK_SIZE = 65536


def _check_octet_stream(req: Request) -> None:
    if req.header("Content-Type") is None:
        raise http_error(415, detail="Invalid content type None")
    if req.content_type != OCTET_STREAM:
        raise http_error(415, detail=f"Invalid content type {req.content_type}")


def _image_size(req: Request) -> int | None:
    """The announced size: ``x-openstack-image-size`` (ASCII digits only: ``int()`` would also
    take ``-1``, `` 5`` or ``1_0``), else the Content-Length. A size the data does not match
    is a 400 once the data is in (the image stays ``queued``, nothing is kept)."""
    declared = req.header("X-Openstack-Image-Size")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise bad_request("Invalid or missing image size in request headers.")
        return int(declared)
    return req.content_length or None


class DataDeserializer:
    def __init__(self, api: ApiSettings) -> None:
        self.api = api

    def upload(self, req: Request) -> dict[str, Any]:
        _check_octet_stream(req)
        return {"size": _image_size(req)}

    def stage(self, req: Request) -> dict[str, Any]:
        if "glance-direct" not in (self.api.enabled_import_methods or ()):
            raise http_error(404, "'glance-direct' method is not available at this site.")
        _check_octet_stream(req)
        return {"size": _image_size(req)}


class DataController:
    def __init__(self, api: ApiSettings) -> None:
        self.api = api

    def upload(self, req: Request, size: int | None) -> None:
        backend = None
        if self.api.multi_store:
            backend = req.header("X-Image-Meta-Store")
            if backend is not None and backend not in {b.id for b in req.service.stores()}:
                raise bad_request(f"Store for identifier {backend} not found")
        try:
            req.service.upload_data(
                req.urlvars["image_id"], iter_upload_body(req), size=size, backend=backend
            )
        except OSError as exc:
            raise bad_request(f"Error reading the image data from the request: {exc}") from None

    def stage(self, req: Request, size: int | None) -> None:
        try:
            req.service.stage_data(req.urlvars["image_id"], iter_upload_body(req), size=size)
        except OSError as exc:
            raise bad_request(f"Error reading the image data from the request: {exc}") from None

    def download(self, req: Request) -> tuple[ImageDownload | None, bool]:
        svc = req.service
        image_id = req.urlvars["image_id"]
        range_header = req.header("Range")
        content_range = req.header("Content-Range")
        if range_header is None and content_range is None:
            return svc.download_data(image_id), False
        size = svc.get_image(image_id).size
        if size is None:
            return svc.download_data(image_id), False
        offset, length = _requested_range(range_header, content_range, size)
        return svc.download_data(image_id, offset=offset, length=length), True


def _requested_range(
    range_header: str | None, content_range: str | None, size: int
) -> tuple[int, int]:
    """(offset, length) of the requested bytes, or a 400/416 error, as Glance computes them."""
    if range_header is not None:
        if "," in range_header:
            raise bad_request(
                "Requests with multiple ranges are not supported in Glance. You may make "
                "multiple single-range requests instead."
            )
        try:
            parsed = webob.byterange.Range.parse(range_header)
        except ValueError:  # "bytes=-": webob fails on the empty suffix length
            parsed = None
        if parsed is None:
            raise http_error(416, detail="Invalid Range header.")
        start, end = parsed.start, parsed.end
        if start >= size:
            raise http_error(
                416,
                detail="Invalid start position in Range header. Start position MUST be in "
                f"the inclusive range [0, {size - 1}].",
            )
        offset = 0
        if start >= 0:
            offset = start
        elif -start < size:
            offset = size + start
        if end is not None and end < size:
            return offset, end - offset
        return offset, size - offset
    try:
        crange = webob.byterange.ContentRange.parse(content_range)
    except ValueError:
        crange = None
    if crange is None:
        raise http_error(416, detail="Invalid Content-Range header.")
    if crange.length is None and crange.stop > size:
        raise http_error(
            416,
            detail="Invalid stop position in Content-Range header. The stop position MUST be "
            f"in the inclusive range [0, {size - 1}].",
        )
    if crange.start >= size:
        raise http_error(
            416,
            detail="Invalid start position in Content-Range header. Start position MUST be "
            f"in the inclusive range [0, {size - 1}].",
        )
    return crange.start, crange.stop - crange.start


class DataSerializer:
    def upload(self, req: Request, result: None) -> Response:
        return empty_response(204)

    stage = upload

    def download(self, req: Request, result: tuple[ImageDownload | None, bool]) -> Response:
        download, ranged = result
        if download is None:
            return bare_response(204)
        stream = download.stream
        headers = [("Content-Type", OCTET_STREAM)]
        if download.image.checksum:
            headers.append(("Content-MD5", download.image.checksum))
        headers.append(("Content-Length", str(download.length)))
        status = 200
        if ranged:
            status = 206
            last = download.offset + download.length - 1
            headers.append(
                ("Content-Range", f"bytes {download.offset}-{last}/{download.total_size}")
            )
        body: Any
        wrapper = req.environ.get("wsgi.file_wrapper")
        if (
            stream.file is not None
            and wrapper is not None
            and download.offset + download.length == download.total_size
        ):
            # The server's own wrapper (zero copy); closing it closes the stream, which
            # reports the download (image.send) like the chunked path does.
            body = wrapper(_StreamFile(stream), BLOCK_SIZE)
        else:
            body = ClosingIterator(stream, stream.close)
        return Response(status, headers=headers, app_iter=body)


class _StreamFile:
    """A download's open file as given to ``wsgi.file_wrapper``: reads pass through (and are
    counted); ``close()`` closes the whole stream, reporting the bytes sent. A server that
    used ``sendfile`` read nothing through it: the whole length is reported then."""

    __slots__ = ("_file", "_read", "_stream")

    def __init__(self, stream: DataStream) -> None:
        assert stream.file is not None
        self._stream = stream
        self._file = stream.file
        self._read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._read += len(data)
        return data

    def __getattr__(self, name: str) -> Any:  # fileno, seek, tell... for the server
        return getattr(self._file, name)

    def close(self) -> None:
        self._stream.sent = self._read or self._stream.length
        self._stream.close()


def create_resource(api: ApiSettings) -> Resource:
    return Resource(
        "image_data", DataController(api), DataDeserializer(api), DataSerializer()
    )
