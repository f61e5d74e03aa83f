"""Store: image bytes in and out through the StoreRegistry port.

Upload: ``queued -> saving`` (compare-and-swap save), stream into a store through the
``FormatInspector`` port, then ``saving -> active`` with size, checksum, multihash, the
inspector's virtual size and the location. On ANY failure (store error, size cap, data the
inspector refuses as not matching ``disk_format``, client disconnect / GeneratorExit, a failed
final save) the written data is deleted and the image goes back to ``queued``; the error is
re-raised.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from attrs import evolve

from glance_domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RangeNotSatisfiable,
    StoreUnavailable,
)
from glance_domain.formats import RawFormatInspector
from glance_domain.layers.base import Layer
from glance_domain.model.image import Image
from glance_domain.model.location import Location
from glance_domain.model.status import check_transition, transition
from glance_domain.ports import (
    DataStream,
    FormatInspector,
    StagingArea,
    StoredData,
    StoreRegistry,
)

LOG = logging.getLogger(__name__)


def requested_length(total: int, offset: int, length: int | None) -> int:
    """The number of bytes a download of ``length`` (None: to the end) bytes from ``offset``
    of ``total`` yields (RangeNotSatisfiable outside the data)."""
    if offset < 0 or (offset >= total and total > 0) or (length is not None and length < 0):
        raise RangeNotSatisfiable(f"Requested range is not satisfiable (size {total}).")
    if length is None:
        return total - offset
    if offset + length > total:
        raise RangeNotSatisfiable(f"Requested range is not satisfiable (size {total}).")
    return length


def size_mismatch(declared: int, received: int) -> InvalidInput:
    """The error for data whose size is not the one the caller announced (Glance 33's 400 and
    text; the data is deleted and the image returns to ``queued``)."""
    return InvalidInput(f"Size mismatch: expected {declared} bytes, got {received} bytes")


class StoreLayer(Layer):
    """Image bytes in and out; ``delayed_delete`` (Glance's option) keeps a deleted image's
    data for the scrubber instead of deleting it at once."""

    __slots__ = ("delayed_delete", "inspector", "staging", "stores")

    def __init__(
        self, inner: Layer, stores: StoreRegistry, staging: StagingArea | None = None,
        inspector: FormatInspector | None = None, *, delayed_delete: bool = False,
    ) -> None:
        self.inner = inner
        self.stores = stores
        self.staging = staging
        self.inspector: FormatInspector = inspector or RawFormatInspector()
        self.delayed_delete = delayed_delete

    # -- staging (glance-direct) ----------------------------------------------------------
    def stage(self, image: Image, data: Iterable[bytes], size: int | None) -> Image:
        """``queued -> uploading``, bytes into the staging area, then the staged size.

        On any failure the staged data is deleted and the image returns to ``queued``.
        """
        if self.staging is None:
            raise StoreUnavailable("No staging area is configured.")
        uploading = self.inner.save(image, transition(image, "uploading"), "stage")
        written = False
        try:
            staged = self.staging.write(image.id, data)
            written = True
            if size is not None and staged != size:
                raise size_mismatch(size, staged)
            return self.inner.save(uploading, evolve(uploading, size=staged), "stage")
        except BaseException:
            if written:
                with contextlib.suppress(Exception):
                    self.staging.delete(image.id)
            with contextlib.suppress(Exception):
                self.inner.save(uploading, transition(uploading, "queued"), "stage")
            raise

    # -- upload ---------------------------------------------------------------------------
    def upload(
        self, image: Image, data: Iterable[bytes], size: int | None, backend: str | None
    ) -> Image:
        saving = self.inner.save(image, transition(image, "saving"), "upload")
        stored: StoredData | None = None
        try:
            inspected = self.inspector.inspect(
                data, disk_format=saving.disk_format, container_format=saving.container_format
            )
            stored = self.stores.write(image.id, inspected, backend=backend, size=size)
            if size is not None and stored.size != size:
                raise size_mismatch(size, stored.size)
            virtual_size = inspected.verdict()
            location = Location(
                url=stored.url, metadata={**stored.metadata, "store": stored.backend}
            )
            active = transition(
                saving,
                "active",
                size=stored.size,
                virtual_size=virtual_size,
                checksum=stored.checksum,
                os_hash_algo=stored.hash_algo,
                os_hash_value=stored.hash_value,
                locations=(location,),
            )
            return self.inner.save(saving, active, "upload")
        except BaseException:
            if stored is not None:
                with contextlib.suppress(Exception):
                    self.stores.delete(stored.url)
            with contextlib.suppress(Exception):
                self.inner.save(saving, transition(saving, "queued"), "upload")
            raise

    # -- locations ------------------------------------------------------------------------
    def save(self, before: Image, after: Image, action: str = "update") -> Image:
        saved = self.inner.save(before, after, action)
        if action == "update":  # a PATCH that removed or replaced locations: their data goes
            kept = {loc.url for loc in saved.locations}
            for location in before.locations:
                if location.url not in kept:
                    self._discard(before.id, location.url)
        return saved

    def measure_location(self, image: Image, url: str,
                         rule: str = "add_image_location") -> int:
        stream = self.stores.read(url)
        try:
            return stream.length
        finally:
            stream.close()

    # -- download -------------------------------------------------------------------------
    def download(self, image: Image, offset: int, length: int | None) -> DataStream | None:
        locations = [loc for loc in image.locations if loc.status == "active"]
        if not locations or image.size is None:
            return None
        length = requested_length(image.size, offset, length)
        error: Exception | None = None
        for location in locations:
            try:
                return self.stores.read(location.url, offset=offset, length=length)
            except Exception as exc:  # try the next copy, as Glance does
                error = exc
        assert error is not None
        raise error

    # -- deletion -------------------------------------------------------------------------
    # The database is committed first and the data deleted afterwards, best-effort: a failed
    # commit must leave the image's data intact (an orphaned blob can be swept later; a
    # location pointing at deleted data is corruption).
    def remove(self, image: Image) -> Image:
        if self.delayed_delete and image.locations:
            # Glance: an image with data goes pending_delete and keeps it for the scrubber
            # (only from a status the machine allows: a deactivated image cannot be deleted)
            check_transition(image, "pending_delete")
            removed = self.inner.remove_keeping_data(image)
        else:
            removed = self.inner.remove(image)
            for location in image.locations:
                self._discard(image.id, location.url)
        if image.status == "saving":  # an upload is running or its writer died: its bytes go
            self.remove_partial(image.id)
        if self.staging is not None and image.status in ("uploading", "importing"):
            try:
                self.staging.delete(image.id)
            except NotFound:
                pass
            except Exception:
                LOG.warning("image %s: cannot delete its staged data", image.id,
                            exc_info=True)
            if image.status == "uploading":
                self.remove_partial(image.id, staged=True)
        return removed

    def remove_partial(self, image_id: str, *, staged: bool = False) -> int:
        """Remove what an unfinished upload (``staged``: a ``/stage``) of the image left
        behind; failures are only logged (the next recovery pass tries again)."""
        try:
            if staged:
                return self.staging.remove_partial(image_id) if self.staging is not None else 0
            return self.stores.remove_partial(image_id)
        except Exception:
            LOG.warning("image %s: cannot remove the data of an unfinished upload", image_id,
                        exc_info=True)
            return 0

    def _discard(self, image_id: str, url: str) -> None:
        """Delete data no committed record points at any more; failures are only logged.

        Data that another live image lists a location for is kept: a location is never shared
        between two images' lifecycles (the service refuses to add a URL another image lists;
        this check also covers a race between two such adds, and records written before it)."""
        try:
            users = [other for other in self.inner.location_users(url) if other != image_id]
        except Exception:
            LOG.warning("image %s: cannot tell whether other images use a removed location; "
                        "its data is kept", image_id, exc_info=True)
            return
        if users:
            LOG.warning("image %s: the data of a removed location is kept: image(s) %s list "
                        "the same location", image_id, ", ".join(users))
            return
        try:
            self.stores.delete(url)
        except NotFound:
            pass
        except Exception:
            LOG.warning("image %s: cannot delete data at a removed location (left behind)",
                        image_id, exc_info=True)

    def delete_from_store(self, image: Image, backend: str) -> Image:
        if image.status != "active":
            raise Conflict("It's not allowed to remove image data from store if image status "
                           "is not 'active'")
        # Glance refuses a single copy before looking for the store (whichever store is named)
        if len(image.locations) <= 1:
            raise Forbidden("Cannot delete image data from the only store containing it. "
                           "Consider deleting the image instead.")
        keep = tuple(loc for loc in image.locations if loc.backend != backend)
        if len(keep) == len(image.locations):
            raise NotFound(f"Image {image.id} is not available in store {backend}.")
        saved = self.inner.save(image, evolve(image, locations=keep), "delete_from_store")
        for location in image.locations:
            if location.backend == backend:
                self._discard(image.id, location.url)
        return saved
