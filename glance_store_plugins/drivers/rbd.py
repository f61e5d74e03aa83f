"""``rbd`` driver: image data as Ceph RBD images, snapshotted for Nova's copy-on-write clones.

Needs Ceph's Python bindings ``rados`` and ``rbd``, which exist only as distribution packages
(Debian: ``python3-rados python3-rbd``); ``python3 dev.py test`` links them into .venv, and any
other virtualenv can symlink the two ``.so`` files from ``/usr/lib/python3/dist-packages`` into
its ``site-packages`` (same Python minor version).

Options (glance_store names and meanings):

``rbd_store_pool``
    The RADOS pool images are written to (default ``images``).
``rbd_store_user``
    The Ceph client id (``glance`` for ``client.glance``; default: librados' ``admin``).
``rbd_store_ceph_conf``
    Path of ceph.conf (default: librados' search path, ``/etc/ceph/ceph.conf``...). The keyring
    is found as librados finds it (the ``keyring`` setting of the client's section).
``rbd_store_chunk_size``
    The RBD object size in MiB, a power of two (default 8); also the write and read unit.
``rados_connect_timeout``
    Seconds to wait for the cluster when connecting (default 0: librados' own timeout).
``rbd_thin_provisioning``
    Skip writing chunks that are all zeros, leaving them unallocated (default false).

A write creates an RBD image named after the image id (sized from the announced size, grown as
data arrives when the size is unknown or wrong, trimmed to the exact size at the end), then a
protected snapshot ``snap``; the location is ``rbd://<fsid>/<pool>/<image>/snap``. With Glance's
``show_image_direct_url`` Nova's RBD image backend clones that snapshot instead of downloading
the image. Deleting data refuses with :class:`InUse` while clones of the snapshot exist.
Locations written by glance_store (same format, or the old ``rbd://<image>``) are read as is.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, unquote

from glance_store_plugins import location as loc
from glance_store_plugins.base import Store
from glance_store_plugins.capabilities import Capability
from glance_store_plugins.errors import (
    BackendError,
    ConfigError,
    Duplicate,
    InUse,
    InvalidLocation,
    NotFound,
)
from glance_store_plugins.hashing import HashingChunks
from glance_store_plugins.options import Option

MiB = 1 << 20
#: The snapshot every write creates and protects (glance_store's name; Nova clones it).
SNAPSHOT = "snap"
#: Growth of an image whose final size is unknown: double, but by at most this much at a time.
MAX_GROWTH = 8 << 30


class RbdStore(Store):
    """Stores images as RBD images with a protected ``snap`` snapshot."""

    driver_name = "rbd"
    schemes = ("rbd",)
    capabilities = Capability.READ_WRITE
    options = {
        opt.name: opt
        for opt in (
            Option(name="rbd_store_pool", default="images", help="RADOS pool of the images."),
            Option(name="rbd_store_user", default="",
                   help="Ceph client id (e.g. glance); default: librados' (admin)."),
            Option(name="rbd_store_ceph_conf", default="",
                   help="Path of ceph.conf; default: librados' search path."),
            Option(name="rbd_store_chunk_size", type=int, default=8,
                   help="RBD object size in MiB (a power of two); also the I/O unit."),
            Option(name="rados_connect_timeout", type=int, default=0,
                   help="Seconds to wait when connecting to the cluster (0: librados')."),
            Option(name="rbd_thin_provisioning", type=bool, default=False,
                   help="Do not write chunks that are all zeros (they stay unallocated)."),
        )
    }

    def _configure(self, conf: Mapping[str, Any]) -> None:
        where = f"store backend {self.backend!r}"
        try:
            import rados
            import rbd
        except ImportError:
            raise ConfigError(
                f"{where}: the rbd driver needs Ceph's Python bindings (Debian: apt-get install "
                "python3-rados python3-rbd, visible to this Python; see docs/stores.md)"
            ) from None
        self._rados, self._rbd = rados, rbd
        chunk_mib = conf["rbd_store_chunk_size"]
        if chunk_mib < 1 or chunk_mib & (chunk_mib - 1):
            raise ConfigError(f"{where}: rbd_store_chunk_size must be a power of two (MiB)")
        if conf["rados_connect_timeout"] < 0:
            raise ConfigError(f"{where}: rados_connect_timeout must not be negative")
        if not conf["rbd_store_pool"]:
            raise ConfigError(f"{where}: rbd_store_pool must not be empty")
        self.pool: str = conf["rbd_store_pool"]
        self.chunk_size = chunk_mib * MiB
        self.read_chunk_size = self.chunk_size
        self._order = self.chunk_size.bit_length() - 1
        self._zeros = bytes(self.chunk_size)
        self._thin: bool = conf["rbd_thin_provisioning"]
        if self._thin:
            self.capabilities = type(self).capabilities | Capability.THIN_PROVISIONING
        self._conf_file: str = conf["rbd_store_ceph_conf"] or ""
        self._user: str | None = conf["rbd_store_user"] or None
        self._timeout: int = conf["rados_connect_timeout"]
        self._lock = threading.Lock()
        self._client: Any = None
        self._fsid = ""

    # -- the cluster connection ---------------------------------------------------------------
    def _cluster(self) -> Any:
        """The connected librados handle (one per backend, shared by threads; made lazily)."""
        with self._lock:
            if self._client is None:
                client = self._rados.Rados(conffile=self._conf_file, rados_id=self._user)
                try:
                    if self._timeout:
                        client.connect(timeout=self._timeout)
                    else:
                        client.connect()
                    self._fsid = str(client.get_fsid())
                except BaseException:
                    client.shutdown()
                    raise
                self._client = client
            return self._client

    def close(self) -> None:
        """Disconnect from the cluster (the next operation connects again)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.shutdown()

    # -- locations ----------------------------------------------------------------------------
    def _parse(self, location: str) -> tuple[str, str, str, str | None]:
        """``(fsid, pool, image, snapshot)`` of an ``rbd://`` location (fsid may be empty)."""
        parts = loc.split(location)
        if parts.scheme != "rbd":
            raise InvalidLocation(f"{self.redact(location)} is not an rbd:// location")
        pieces = [unquote(p) for p in parts.path.split("/")[1:]] if parts.path else []
        if not pieces:  # the old form rbd://<image>
            if not parts.netloc:
                raise InvalidLocation(f"{self.redact(location)} names no RBD image")
            return "", self.pool, unquote(parts.netloc), None
        if len(pieces) != 3 or not all(pieces):
            raise InvalidLocation(
                f"{self.redact(location)} is not rbd://<fsid>/<pool>/<image>/<snapshot>"
            )
        return unquote(parts.netloc), pieces[0], pieces[1], pieces[2]

    def owns(self, location: str) -> bool:
        try:
            fsid = self._parse(location)[0]
        except InvalidLocation:
            return False
        if not fsid:
            return True
        try:
            self._cluster()
        except Exception:  # cannot tell: a read will report the connection error
            return True
        return fsid == self._fsid

    def location_for(self, pool: str, image: str) -> str:
        return f"rbd://{quote(self._fsid, '')}/{quote(pool, '')}/{quote(image, '')}/{SNAPSHOT}"

    # -- raw operations -----------------------------------------------------------------------
    def _write(self, image_id: str, chunks: HashingChunks) -> str:
        cluster = self._cluster()
        with cluster.open_ioctx(self.pool) as ioctx:
            size = chunks.size_hint or 0
            try:
                self._rbd.RBD().create(ioctx, image_id, size, order=self._order,
                                       old_format=False)
            except self._rbd.ImageExists:
                raise Duplicate(
                    f"data for image {image_id} already exists in {self.backend!r}"
                ) from None
            try:
                with self._rbd.Image(ioctx, image_id) as image:
                    self._fill(image, chunks, size)
                    image.create_snap(SNAPSHOT)
                    image.protect_snap(SNAPSHOT)
            except BaseException:
                self._remove_quietly(ioctx, image_id)
                raise
        return self.location_for(self.pool, image_id)

    def _fill(self, image: Any, chunks: HashingChunks, size: int) -> None:
        """Write every chunk in object-sized blocks, growing the image as needed, then trim
        it to the exact size."""
        block = self.chunk_size
        pending = bytearray()
        offset = 0
        for chunk in chunks:
            pending += chunk
            while len(pending) >= block:
                size = self._put(image, bytes(pending[:block]), offset, size)
                offset += block
                del pending[:block]
        if pending:
            size = self._put(image, bytes(pending), offset, size)
            offset += len(pending)
        if size != offset:
            image.resize(offset)

    def _put(self, image: Any, data: bytes, offset: int, size: int) -> int:
        end = offset + len(data)
        if end > size:  # unknown or wrong announced size: grow (doubling, bounded)
            size = max(end, size + min(max(size, self.chunk_size), MAX_GROWTH))
            image.resize(size)
        zero = data == self._zeros if len(data) == self.chunk_size else not data.strip(b"\0")
        if not (self._thin and zero):
            written = image.write(data, offset)
            if written != len(data):
                raise BackendError(f"short write to RBD image at offset {offset}")
        return size

    def _open(self, ioctx: Any, location: str, name: str, snap: str | None) -> Any:
        try:
            return self._rbd.Image(ioctx, name, snapshot=snap, read_only=True)
        except self._rbd.ImageNotFound:
            raise NotFound(f"no data at {self.redact(location)}") from None

    def _size(self, location: str) -> int:
        _, pool, name, snap = self._parse(location)
        with self._ioctx(location, pool) as ioctx, self._open(ioctx, location, name, snap) as img:
            return int(img.size())

    def _ioctx(self, location: str, pool: str) -> Any:
        try:
            return self._cluster().open_ioctx(pool)
        except self._rados.ObjectNotFound:
            raise NotFound(f"no data at {self.redact(location)} (no pool {pool!r})") from None

    def _read(self, location: str, offset: int, length: int) -> Iterator[bytes]:
        _, pool, name, snap = self._parse(location)
        ioctx = self._ioctx(location, pool)
        try:
            image = self._open(ioctx, location, name, snap)
        except BaseException:
            ioctx.close()
            raise
        return _ImageChunks(ioctx, image, offset, length, self.read_chunk_size)

    def _delete(self, location: str) -> None:
        _, pool, name, snap = self._parse(location)
        shown = self.redact(location)
        rbd = self._rbd
        with self._ioctx(location, pool) as ioctx:
            try:
                image = rbd.Image(ioctx, name)
            except rbd.ImageNotFound:
                raise NotFound(f"no data at {shown}") from None
            with image:
                if snap is not None and snap in {s["name"] for s in image.list_snaps()}:
                    try:
                        if image.is_protected_snap(snap):
                            image.unprotect_snap(snap)
                    except rbd.ImageBusy:
                        raise InUse(
                            f"data at {shown} is in use: its snapshot has clones"
                        ) from None
                    image.remove_snap(snap)
            try:
                rbd.RBD().remove(ioctx, name)
            except rbd.ImageNotFound:
                raise NotFound(f"no data at {shown}") from None
            except (rbd.ImageBusy, rbd.ImageHasSnapshots):
                raise InUse(f"data at {shown} is in use (open, or has other snapshots)") from None

    def _remove_quietly(self, ioctx: Any, name: str) -> None:
        """Remove a partly written image (best effort: the write's own error matters more)."""
        try:
            with self._rbd.Image(ioctx, name) as image:
                for snap in list(image.list_snaps()):
                    if image.is_protected_snap(snap["name"]):
                        image.unprotect_snap(snap["name"])
                    image.remove_snap(snap["name"])
            self._rbd.RBD().remove(ioctx, name)
        except Exception:
            pass

    def leftovers(self) -> list[str]:
        """Images of the pool without their ``snap`` snapshot: writes in progress or abandoned
        (the contract kit expects none after a failed write)."""
        found = []
        with self._cluster().open_ioctx(self.pool) as ioctx:
            for name in self._rbd.RBD().list(ioctx):
                try:
                    with self._rbd.Image(ioctx, name, read_only=True) as image:
                        if SNAPSHOT not in {s["name"] for s in image.list_snaps()}:
                            found.append(name)
                except self._rbd.ImageNotFound:
                    continue
        return found


class _ImageChunks:
    """Chunks read from an open RBD image; ``close()`` closes the image and its pool context
    even when reading never started."""

    def __init__(self, ioctx: Any, image: Any, offset: int, length: int, chunk: int) -> None:
        self._ioctx, self._image = ioctx, image
        self._pos, self._end, self._chunk = offset, offset + length, chunk
        self._closed = False

    def __iter__(self) -> _ImageChunks:
        return self

    def __next__(self) -> bytes:
        if self._closed or self._pos >= self._end:
            self.close()
            raise StopIteration
        count = min(self._chunk, self._end - self._pos)
        data = bytes(self._image.read(self._pos, count))
        if not data:
            self.close()
            raise StopIteration
        self._pos += len(data)
        return data

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._image.close()
            finally:
                self._ioctx.close()
