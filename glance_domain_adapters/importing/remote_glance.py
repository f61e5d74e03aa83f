"""``RemoteGlance``: another region's Glance, read over HTTP for the glance-download method.

The endpoint comes from the caller's service catalog (so from Keystone, not from the client);
requests carry the caller's token, as Glance's glance-download does. The image record is read
whole (at most ``MAX_RECORD`` bytes) and the data is streamed in ``CHUNK`` pieces; the
importer caps what it stages and compares it with the record's size.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

from glance_domain.importing.glance_download import RemoteImageError
from glance_domain.ports import DataStream

MAX_RECORD = 1 << 20
CHUNK = 1 << 20


class RemoteGlance:
    """Reads images of other Glance endpoints (http and https only)."""

    def __init__(self, *, timeout: float = 60.0) -> None:
        self.timeout = timeout

    def _get(self, endpoint: str, path: str, token: str | None) -> Any:
        url = endpoint.rstrip("/") + path
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise RemoteImageError(f"Unsupported glance endpoint {endpoint}")
        headers = {"X-Auth-Token": token} if token else {}
        try:
            return urllib.request.urlopen(
                urllib.request.Request(url, headers=headers), timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            raise RemoteImageError(f"Remote glance answered {exc.code} for {url}") from None
        except (OSError, ValueError) as exc:
            raise RemoteImageError(f"Cannot reach remote glance at {url}: {exc}") from None

    def image(self, endpoint: str, image_id: str, token: str | None) -> Mapping[str, Any]:
        quoted = urllib.parse.quote(image_id, safe="")
        with self._get(endpoint, f"/v2/images/{quoted}", token) as response:
            body = response.read(MAX_RECORD + 1)
        if len(body) > MAX_RECORD:
            raise RemoteImageError(f"The record of remote image {image_id} is too large")
        try:
            record = json.loads(body)
        except ValueError:
            raise RemoteImageError(f"Remote image {image_id}: not a JSON record") from None
        if not isinstance(record, dict):
            raise RemoteImageError(f"Remote image {image_id}: not a JSON record")
        return record

    def open(self, endpoint: str, image_id: str, token: str | None) -> DataStream:
        quoted = urllib.parse.quote(image_id, safe="")
        response = self._get(endpoint, f"/v2/images/{quoted}/file", token)
        length = response.headers.get("Content-Length")

        def chunks() -> Iterator[bytes]:
            try:
                while chunk := response.read(CHUNK):
                    yield chunk
            except OSError as exc:
                raise RemoteImageError(f"Reading remote image {image_id} failed: {exc}") from None
            finally:
                response.close()

        return DataStream(chunks=chunks(), length=int(length) if length and length.isdigit()
                          else -1)
