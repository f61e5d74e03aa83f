"""``swift`` driver: image data as OpenStack Swift objects (python-swiftclient; the ``swift``
extra), single-tenant: every image in the service's own account.

Options (glance_store names and meanings):

``swift_store_config_file`` / ``default_swift_reference``
    A file of credential references (see :mod:`.swift_auth`) and the reference used for writes
    (default ``ref1``). Locations are then ``swift+config://<reference>/<container>/<object>``.
``swift_store_auth_address`` / ``swift_store_user`` / ``swift_store_key`` /
``swift_store_auth_version``
    The same credentials given as options (without a config file); locations are then
    ``swift+http(s)://<auth address without scheme>/<container>/<object>``, without the
    ``user:key@`` glance_store puts in them (such locations are still read).
    ``swift_store_auth_version`` is ``1`` (tempauth, user ``account:user``) or ``3`` (Keystone,
    user ``project:user``); the default is ``3``, where glance_store's is the retired ``2``.
``swift_store_container``
    Container name (default ``glance``); with ``swift_store_multiple_containers_seed`` = N
    (1-32) each image goes to ``<container>_<first N characters of the image id>``.
``swift_store_create_container_on_put``
    Create a missing container on write (default false).
``swift_store_large_object_size`` / ``swift_store_large_object_chunk_size``
    Images of this many MiB or more (default 5120), or of unknown size and more than 8 MiB (as
    glance_store, which segments every image of unknown size), are written as a static large
    object (SLO) of segments of the chunk size (MiB, default 200) named ``<object>-00001``...;
    segments are streamed, so memory use does not grow with them. A failed upload removes the
    segments already written.
``swift_store_auth_insecure``, ``swift_store_cacert``, ``swift_store_region``,
``swift_store_endpoint_type``, ``swift_store_service_type``, ``swift_store_endpoint``
    TLS and service catalogue settings, as in glance_store.

Reads of glance_store's dynamic large objects (``X-Object-Manifest``) work too; deleting one
removes its segments.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from glance_store_plugins import location as loc
from glance_store_plugins.base import Store
from glance_store_plugins.capabilities import Capability
from glance_store_plugins.drivers.segments import Segmenter
from glance_store_plugins.drivers.swift_auth import Credentials, check_version, load_references
from glance_store_plugins.errors import (
    BackendError,
    ConfigError,
    Duplicate,
    InvalidLocation,
    NotFound,
)
from glance_store_plugins.hashing import HashingChunks
from glance_store_plugins.options import Option

MiB = 1 << 20
#: An image of unknown size is written as one object if it ends within this many bytes (and
#: below the large-object size); otherwise as an SLO, like glance_store (memory stays bounded).
PEEK = 8 * MiB
_SEGMENT = re.compile(r"(.+)-\d{5}")
#: The reference name used for credentials given as options rather than in a config file.
_OPTIONS_REF = ""


def _opt(name: str, **kwargs: Any) -> Option:
    return Option(name=name, **kwargs)


class SwiftStore(Store):
    """Stores images as objects (SLOs when large) in one Swift account."""

    driver_name = "swift"
    schemes = ("swift", "swift+http", "swift+https", "swift+config")
    #: swift+config names credentials in the operator's swift_store_config_file: a caller may
    #: never add such a location (Glance's restricted scheme).
    restricted_schemes = ("swift+config",)
    capabilities = Capability.READ_WRITE
    options = {
        opt.name: opt
        for opt in (
            _opt("swift_store_config_file", help="File of credential references."),
            _opt("default_swift_reference", default="ref1",
                 help="Reference of swift_store_config_file used for writes."),
            _opt("swift_store_auth_address", help="Auth URL (without a config file)."),
            _opt("swift_store_user", help="account:user (v1) or project:user (v3)."),
            _opt("swift_store_key", secret=True, help="Password or key."),
            _opt("swift_store_auth_version", default="3", help="1 (tempauth) or 3 (Keystone)."),
            _opt("swift_store_auth_insecure", type=bool, default=False,
                 help="Do not verify the TLS certificate."),
            _opt("swift_store_cacert", help="CA bundle."),
            _opt("swift_store_region", help="Region of the object-store endpoint."),
            _opt("swift_store_endpoint_type", default="publicURL", help="Endpoint interface."),
            _opt("swift_store_service_type", default="object-store", help="Service type."),
            _opt("swift_store_endpoint", help="Storage URL overriding the catalogue's."),
            _opt("swift_store_container", default="glance", help="Container (or prefix)."),
            _opt("swift_store_create_container_on_put", type=bool, default=False,
                 help="Create a missing container on write."),
            _opt("swift_store_large_object_size", type=int, default=5120,
                 help="Size in MiB from which images are segmented (SLO)."),
            _opt("swift_store_large_object_chunk_size", type=int, default=200,
                 help="Segment size in MiB."),
            _opt("swift_store_multiple_containers_seed", type=int, default=0,
                 help="Spread images over containers by this many id characters (0-32)."),
            _opt("swift_store_multi_tenant", type=bool, default=False,
                 help="Multi-tenant mode (not supported by this driver yet)."),
            _opt("swift_store_retries", type=int, default=3,
                 help="Retries of a failed request (swiftclient)."),
        )
    }

    def _configure(self, conf: Mapping[str, Any]) -> None:
        where = f"store backend {self.backend!r}"
        try:
            import swiftclient.client
            import swiftclient.exceptions
        except ImportError:
            raise ConfigError(f"{where}: the swift driver needs python-swiftclient "
                              "(pip install 'glance-domain[swift]')") from None
        self._client_mod = swiftclient.client
        self._client_error = swiftclient.exceptions.ClientException
        if conf["swift_store_multi_tenant"]:
            raise ConfigError(f"{where}: swift_store_multi_tenant is not supported yet")
        seed = conf["swift_store_multiple_containers_seed"]
        if not 0 <= seed <= 32:
            raise ConfigError(f"{where}: swift_store_multiple_containers_seed must be 0-32")
        self._large = conf["swift_store_large_object_size"] * MiB
        self._segment = conf["swift_store_large_object_chunk_size"] * MiB
        if self._large < 1 or self._segment < 1:
            raise ConfigError(f"{where}: swift_store_large_object_size and _chunk_size must be "
                              "at least 1 (MiB)")
        self._seed = seed
        self.container: str = conf["swift_store_container"]
        if not self.container or "/" in self.container:
            raise ConfigError(f"{where}: swift_store_container must be a name without '/'")
        self._create = conf["swift_store_create_container_on_put"]
        self._refs = self._credentials(conf, where)
        self._secrets = sorted({*self._secrets, *(c.key for c in self._refs.values())},
                               key=len, reverse=True)
        self._local = threading.local()
        self._common = {
            "retries": conf["swift_store_retries"], "starting_backoff": 0.5, "max_backoff": 4,
            "insecure": conf["swift_store_auth_insecure"], "cacert": conf["swift_store_cacert"],
            "timeout": 60,
        }
        self._os_options = {k: v for k, v in {
            "region_name": conf["swift_store_region"],
            "endpoint_type": conf["swift_store_endpoint_type"],
            "service_type": conf["swift_store_service_type"],
            "object_storage_url": conf["swift_store_endpoint"],
        }.items() if v}

    def _credentials(self, conf: Mapping[str, Any], where: str) -> dict[str, Credentials]:
        if conf["swift_store_config_file"]:
            refs = load_references(conf["swift_store_config_file"], where)
            self._ref = conf["default_swift_reference"]
            if self._ref not in refs:
                raise ConfigError(f"{where}: default_swift_reference {self._ref!r} is not a "
                                  "section of swift_store_config_file")
            return refs
        missing = [n for n in ("swift_store_auth_address", "swift_store_user", "swift_store_key")
                   if not conf[n]]
        if missing:
            raise ConfigError(f"{where}: set swift_store_config_file, or {', '.join(missing)}")
        address = conf["swift_store_auth_address"].strip()
        if "://" not in address:
            address = f"https://{address}"
        if urlsplit(address).scheme not in ("http", "https"):
            raise ConfigError(f"{where}: swift_store_auth_address must be an http(s) URL")
        self._ref = _OPTIONS_REF
        self._auth = address.rstrip("/")
        return {_OPTIONS_REF: Credentials(
            auth_address=self._auth, user=conf["swift_store_user"], key=conf["swift_store_key"],
            auth_version=check_version(conf["swift_store_auth_version"], where),
        )}

    # -- connections and locations ------------------------------------------------------------
    def _conn(self, ref: str) -> Any:
        """This thread's connection for credential reference ``ref`` (tokens are reused)."""
        conns: dict[str, Any] = self._local.__dict__.setdefault("conns", {})
        if ref not in conns:
            args = self._refs[ref].connection_args()
            args["os_options"] = {**self._os_options, **args.get("os_options", {})}
            conns[ref] = self._client_mod.Connection(**args, **self._common)
        return conns[ref]

    def _drop(self, ref: str) -> None:
        """Forget this thread's connection (after an interrupted upload left it mid-request)."""
        conn = self._local.__dict__.get("conns", {}).pop(ref, None)
        if conn is not None:
            conn.close()

    def _parse(self, location: str) -> tuple[str, str, str]:
        """``(reference, container, object)`` of a location this backend can read."""
        parts = loc.split(location)
        if parts.scheme == "swift+config":
            ref, path = unquote(parts.netloc), parts.path
        elif parts.scheme in ("swift", "swift+http", "swift+https") and self._ref == _OPTIONS_REF:
            ref = _OPTIONS_REF
            address = parts.netloc.rpartition("@")[2] + parts.path.rsplit("/", 2)[0]
            if address != self._auth.split("://", 1)[1]:
                raise InvalidLocation(f"{self.redact(location)} is not under this backend's "
                                      "auth address")
            path = "/" + "/".join(parts.path.rsplit("/", 2)[1:])
        else:
            raise InvalidLocation(f"{self.redact(location)} is not a location of this backend")
        if ref not in self._refs:
            raise InvalidLocation(f"{self.redact(location)} names an unknown reference")
        pieces = path.split("/")
        if len(pieces) != 3 or not pieces[1] or not pieces[2]:
            raise InvalidLocation(f"{self.redact(location)} names no container and object")
        return ref, unquote(pieces[1]), unquote(pieces[2])

    def owns(self, location: str) -> bool:
        try:
            self._parse(location)
        except InvalidLocation:
            return False
        return True

    def location_for(self, container: str, obj: str) -> str:
        tail = f"{quote(container, '')}/{quote(obj, '')}"
        if self._ref != _OPTIONS_REF:
            return f"swift+config://{quote(self._ref, '')}/{tail}"
        scheme, rest = self._auth.split("://", 1)
        return f"swift+{scheme}://{rest}/{tail}"

    def container_for(self, image_id: str) -> str:
        return f"{self.container}_{image_id[:self._seed]}" if self._seed else self.container

    def _status(self, exc: BaseException) -> int:
        return int(getattr(exc, "http_status", 0) or 0) if isinstance(
            exc, self._client_error) else 0

    # -- raw operations -----------------------------------------------------------------------
    def _head(self, ref: str, container: str, obj: str, location: str) -> dict[str, str]:
        try:
            return dict(self._conn(ref).head_object(container, obj))
        except self._client_error as exc:
            if self._status(exc) == 404:
                raise NotFound(f"no data at {self.redact(location)}") from None
            raise

    def _ensure_container(self, conn: Any, container: str) -> None:
        try:
            conn.head_container(container)
            return
        except self._client_error as exc:
            if self._status(exc) != 404:
                raise
        if not self._create:
            raise BackendError(f"store backend {self.backend!r}: container {container!r} does "
                               "not exist (set swift_store_create_container_on_put to create it)")
        conn.put_container(container)

    def _write(self, image_id: str, chunks: HashingChunks) -> str:
        ref, container = self._ref, self.container_for(image_id)
        conn = self._conn(ref)
        self._ensure_container(conn, container)
        url = self.location_for(container, image_id)
        try:
            self._head(ref, container, image_id, url)
            raise Duplicate(f"data for image {image_id} already exists in {self.backend!r}")
        except NotFound:
            pass
        source = Segmenter(chunks)
        hint = chunks.size_hint
        if hint is None or hint >= self._large:
            source.peek(min(self._large, self._segment, PEEK) + 1)
        if (hint is not None and hint < self._large) or (
                source.ended and source.buffered < self._large):
            try:
                conn.put_object(container, image_id, source.take(None))
            except BaseException:
                self._drop(ref)
                raise
            return url
        self._write_slo(conn, ref, container, image_id, source)
        return url

    def _write_slo(self, conn: Any, ref: str, container: str, name: str,
                   source: Segmenter) -> None:
        """Stream the data as segments, then put the SLO manifest; on failure remove them."""
        manifest: list[dict[str, Any]] = []
        segment = ""
        try:
            while source.more():
                segment = f"{name}-{len(manifest) + 1:05d}"
                counted = source.take(self._segment)
                etag = conn.put_object(container, segment, counted)
                manifest.append({"path": f"/{container}/{segment}", "etag": etag,
                                 "size_bytes": source.last_size})
            conn.put_object(container, name, json.dumps(manifest),
                            query_string="multipart-manifest=put",
                            headers={"Content-Type": "application/json"})
        except BaseException:
            self._drop(ref)
            self._remove_segments(ref, container, [s["path"].rsplit("/", 1)[1]
                                                   for s in manifest] + [segment])
            raise

    def _remove_segments(self, ref: str, container: str, names: list[str]) -> None:
        conn = self._conn(ref)
        for name in dict.fromkeys(n for n in names if n):
            try:
                conn.delete_object(container, name)
            except Exception:  # best effort: the write's own error matters more
                pass

    def _size(self, location: str) -> int:
        ref, container, obj = self._parse(location)
        return int(self._head(ref, container, obj, location)["content-length"])

    def _read(self, location: str, offset: int, length: int) -> Any:
        if length == 0:
            return iter(())
        ref, container, obj = self._parse(location)
        try:
            _, body = self._conn(ref).get_object(
                container, obj, resp_chunk_size=self.read_chunk_size,
                headers={"Range": f"bytes={offset}-{offset + length - 1}"},
            )
        except self._client_error as exc:
            if self._status(exc) == 404:
                raise NotFound(f"no data at {self.redact(location)}") from None
            raise
        return body

    def _delete(self, location: str) -> None:
        ref, container, obj = self._parse(location)
        head = self._head(ref, container, obj, location)
        conn = self._conn(ref)
        if head.get("x-static-large-object", "").lower() == "true":
            conn.delete_object(container, obj, query_string="multipart-manifest=delete")
            return
        manifest = head.get("x-object-manifest")  # glance_store's dynamic large objects
        if manifest:
            seg_container, _, prefix = unquote(manifest).partition("/")
            _, listing = conn.get_container(seg_container, prefix=prefix, full_listing=True)
            for item in listing:
                conn.delete_object(seg_container, item["name"])
        conn.delete_object(container, obj)

    def leftovers(self) -> list[str]:
        """Segments whose manifest does not exist (a failed upload left them; tests expect
        none) in this backend's container (or seeded containers)."""
        conn = self._conn(self._ref)
        found: list[str] = []
        _, containers = conn.get_account(prefix=self.container, full_listing=True)
        for info in containers:
            name = info["name"]
            if name != self.container and not (self._seed and name.startswith(
                    f"{self.container}_")):
                continue
            _, listing = conn.get_container(name, full_listing=True)
            objects = {item["name"] for item in listing}
            for obj in objects:
                match = _SEGMENT.fullmatch(obj)
                if match and match.group(1) not in objects:
                    found.append(f"{name}/{obj}")
        return sorted(found)
