"""ImageService: the one API that callers use (WSGI controllers, the CLI, embedding programs).

Obtain one per caller from ``Gateway.service(context)``. Every method runs through the whole layer
stack (authorization, policy, notification, quota, store, repository) for that context, and
raises only ``glance_domain.errors`` exceptions.

    >>> svc = gateway.service(RequestContext(project_id="p1", roles=("member",)))
    >>> image = svc.create_image(name="cirros", disk_format="qcow2", container_format="bare")
    >>> svc.upload_data(image.id, [b"..."])
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from glance_domain import location_rules, visibility
from glance_domain.changes import Change, apply_changes
from glance_domain.context import RequestContext
from glance_domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    StoreUnavailable,
)
from glance_domain.importing import glance_download, legacy
from glance_domain.importing.importer import LOCK_KEY, Importer
from glance_domain.importing.request import (
    COPY_IMAGE,
    GLANCE_DIRECT,
    GLANCE_DOWNLOAD,
    WEB_DOWNLOAD,
    ImportRequest,
)
from glance_domain.layers.base import Layer
from glance_domain.location_patch import apply_location_changes, hex_length
from glance_domain.model import validation
from glance_domain.model.factory import ImageFactory
from glance_domain.model.image import Image
from glance_domain.model.location import Location
from glance_domain.model.member import MEMBER_STATUSES, Member
from glance_domain.model.status import transition
from glance_domain.model.task import Task
from glance_domain.ports import BackendInfo, DataStream, ImageRepository, StoreRegistry, Usage
from glance_domain.query import ImageQuery
from glance_domain.settings import DomainSettings
from glance_domain.verification import QUARANTINE_PROPERTY

#: URL schemes no caller may ever give an image as a location (Glance's restricted schemes;
#: the configured store drivers may declare more, see ``location_rules``).
RESTRICTED_LOCATION_SCHEMES = location_rules.RESTRICTED_SCHEMES


@attrs.frozen(kw_only=True)
class ImageDownload:
    """An image's data to send: ``stream`` yields ``length`` bytes starting at ``offset``."""

    image: Image
    stream: DataStream
    offset: int
    length: int
    total_size: int


class ImageService:
    """Operations on images and members for one caller. Implemented over the layer stack.

    Each method fetches the image once at the top and passes the record down the stack, so
    every layer sees the same record and no layer re-reads it.
    """

    __slots__ = (
        "_factory", "_importer", "_property_checks", "_repository", "_settings", "_stack",
        "_stores", "context",
    )

    def __init__(
        self,
        *,
        context: RequestContext,
        stack: Layer,
        factory: ImageFactory,
        settings: DomainSettings,
        stores: StoreRegistry,
        repository: ImageRepository,
        importer: Importer | None = None,
        property_checks: bool = False,
    ) -> None:
        """``property_checks``: the stack applies property protections (readable views and
        per-property checks of a PATCH); without them a PATCH skips both."""
        self.context = context
        self._property_checks = property_checks
        self._importer = importer
        self._stack = stack
        self._factory = factory
        self._settings = settings
        self._stores = stores
        self._repository = repository

    # -- images -------------------------------------------------------------------------
    def create_image(self, /, **attributes: Any) -> Image:
        """Create a queued image. Accepts Glance's writable attributes (id, name, visibility,
        protected, os_hidden, container_format, disk_format, min_disk, min_ram, tags, owner) and
        any extra property (string values). Read-only/reserved names raise Forbidden subclasses.
        """
        image = self._factory.new_image(self.context, **attributes)
        return self._stack.add(image)

    def get_image(self, image_id: str) -> Image:
        """The image, if the caller may see it (else NotFound)."""
        return self._stack.get(image_id)

    def list_images(self, query: ImageQuery) -> list[Image]:
        """One page of the images the caller may see, per ``query`` (see ImageQuery)."""
        return self._stack.list(query, None)

    def update_image(self, image_id: str, changes: Sequence[Change]) -> Image:
        """Apply JSON-patch-like changes atomically (all or none) and return the new image.

        The changes apply to the image as the caller reads it: with property protections, a
        property it may not read does not exist for it (and is kept as it is)."""
        image = self._stack.fetch(image_id)
        view = self._stack.readable(image) if self._property_checks else image
        if not changes:
            return view
        for change in changes:  # Glance: these rules before anything else
            if change.path == ("visibility",) and change.op in ("add", "replace"):
                self._stack.check_visibility(image, change.value)
            elif change.path[:1] == ("locations",) and (change.op != "replace" or change.value):
                # the location rules come before "locations are invisible" (an empty
                # replacement is refused before any rule)
                self._stack.check_api_rule(
                    "delete_image_location" if change.op == "remove" else "set_image_location",
                    image)

        def ask(name: str, operation: str) -> None:
            self._stack.check_property(image, name, operation)

        check = ask if self._property_checks else None

        if not self._settings.show_multiple_locations:  # location changes are refused there
            after = apply_changes(view, changes, self._settings, check)
            return self._stack.save(image, _with_unreadable(image, view, after), "update")
        # in the order given, as Glance: a location added to a queued image makes it active
        # before the operations that follow are applied
        after = view
        pending: list[Change] = []
        for change in changes:
            if change.path[:1] != ("locations",):
                pending.append(change)
                continue
            if pending:
                after = apply_changes(after, pending, self._settings, check)
                pending = []
            after = apply_location_changes(
                after, [change], lambda url: self._resolve_location(image, url),
                self._settings.hashing_algorithm, self._settings.image_location_quota)
        if pending:
            after = apply_changes(after, pending, self._settings, check)
        return self._stack.save(image, _with_unreadable(image, view, after), "update")

    def _resolve_location(self, image: Image, url: str) -> tuple[str, str, int]:
        """``url`` normalised, the backend owning it and the size of the data there, for a
        PATCH adding it (InvalidInput "Invalid location" as Glance, for a refused, unknown or
        empty one; Conflict when another image lists it)."""
        # as Glance: a location may not point an image at files of this host (another image's
        # data among them), whoever asks
        url = location_rules.settable_url(url, self._stores.restricted_schemes())
        scheme = location_rules.scheme_of(url)
        if scheme in ("http", "https") and not self._passes_uri_filtering(url):
            # Glance says only "Invalid location"; say why, keeping its words first
            raise InvalidInput(f"Invalid location: URI does not pass filtering: {url}")
        backend = self._location_backend(url)
        if backend is None:
            raise InvalidInput("Invalid location")
        self._check_unshared(image, url, backend)
        try:
            size = self._stack.measure_location(image, url, "set_image_location")
        except (NotFound, StoreUnavailable, InvalidInput):
            raise InvalidInput("Invalid location") from None
        if size <= 0:
            raise InvalidInput("Invalid location")
        return url, backend, size

    def _check_unshared(self, image: Image, url: str, backend: str) -> None:
        """Conflict when another live image lists ``url`` in a store that can delete data: a
        location is never shared between two images' lifecycles (deleting one would delete
        the other's data). Read-only stores (http) never delete, so their URLs may be shared.
        """
        if any(info.id == backend and info.read_only for info in self._stores.backends()):
            return
        if any(other != image.id for other in self._stack.location_users(url)):
            raise Conflict("The location is already in use by another image.")

    def _fetch(self, image_id: str, not_found: str) -> Image:
        """The image for an operation whose controller words "not found" its own way."""
        try:
            return self._stack.fetch(image_id)
        except NotFound:
            raise NotFound(not_found) from None

    def _fetch_for_sub_resource(self, image_id: str) -> Image:
        """Tags and members endpoints say ``Image X not found.`` (Glance's text)."""
        return self._fetch(image_id, f"Image {image_id} not found.")

    def delete_image(self, image_id: str) -> None:
        """Delete an image and its data (Forbidden if protected)."""
        image = self._fetch(image_id, f"Failed to find image {image_id} to delete")
        self._stack.remove(image)

    def deactivate_image(self, image_id: str) -> Image:
        """active -> deactivated (idempotent on a deactivated image)."""
        return self._toggle(image_id, "deactivate", "active", "deactivated")

    def reactivate_image(self, image_id: str) -> Image:
        """deactivated -> active (idempotent on an active image)."""
        return self._toggle(image_id, "reactivate", "deactivated", "active")

    def quarantine_image(self, image_id: str, reason: str) -> Image:
        """Deactivate an image whose stored data failed verification and record ``reason`` in
        its ``os_glance_verify_failure`` property (``glance_domain.verification``); the
        ``deactivate`` rule decides who may. Reactivating it leaves the property as a record."""
        image = self._stack.fetch(image_id)
        if image.status not in ("active", "deactivated"):
            raise Forbidden(f"Not allowed to deactivate image in status '{image.status}'")
        properties = {**image.extra_properties, QUARANTINE_PROPERTY: reason}
        if image.status == "active":
            after = transition(image, "deactivated", extra_properties=properties)
        else:
            after = attrs.evolve(image, extra_properties=properties)
        return self._stack.save(image, after, "deactivate")

    def _toggle(self, image_id: str, action: str, source: str, target: str) -> Image:
        image = self._stack.fetch(image_id)
        if image.status not in (source, target):
            raise Forbidden(f"Not allowed to {action} image in status '{image.status}'")
        # A no-op save still goes through the stack so the rule fires (Glance checks it too).
        after = transition(image, target) if image.status == source else image
        return self._stack.save(image, after, action)

    def add_tag(self, image_id: str, tag: str) -> Image:
        """Add one tag (adding an existing tag is a no-op that still checks permissions)."""
        image = self._fetch_for_sub_resource(image_id)
        validation.tag_value(tag)
        return self._stack.save(image, attrs.evolve(image, tags=image.tags | {tag}), "update")

    def remove_tag(self, image_id: str, tag: str) -> Image:
        """NotFound if the image does not have the tag (with no text of its own, as Glance)."""
        image = self._fetch_for_sub_resource(image_id)
        if tag not in image.tags:
            raise NotFound()
        return self._stack.save(image, attrs.evolve(image, tags=image.tags - {tag}), "update")

    # -- data -----------------------------------------------------------------------------
    def upload_data(
        self,
        image_id: str,
        data: Iterable[bytes],
        *,
        size: int | None = None,
        backend: str | None = None,
    ) -> Image:
        """Stream bytes into a store and activate the image (queued -> saving -> active).

        On any failure (size cap, client disconnect, store error) the image returns to
        ``queued`` with no data kept, and the error is re-raised.
        """
        image = self._stack.fetch(image_id)
        if size is not None and (isinstance(size, bool) or size < 0):
            raise InvalidInput("Invalid value for 'size': it must be a non-negative integer.")
        return self._stack.upload(image, data, size, backend)

    def download_data(
        self, image_id: str, *, offset: int = 0, length: int | None = None
    ) -> ImageDownload | None:
        """The image's bytes (or a range of them); None when the image has no data yet."""
        image = self._stack.fetch(image_id)
        stream = self._stack.download(image, offset, length)
        if stream is None:
            return None
        return ImageDownload(
            image=image,
            stream=stream,
            offset=offset,
            length=stream.length,
            total_size=image.size or 0,
        )

    def delete_from_store(self, image_id: str, backend: str) -> Image:
        """Remove the image's data from one backend (it must keep at least one location)."""
        image = self._stack.fetch(image_id)
        return self._stack.delete_from_store(image, backend)

    def add_location(
        self, image_id: str, url: str, metadata: dict[str, Any] | None = None, *,
        validation_data: dict[str, Any] | None = None,
    ) -> Image:
        """Give a ``queued`` image its data at an existing location (Glance 33's add-location
        API; done at once here, where Glance runs a task) and make it ``active``.

        As in Glance: only ``queued`` images (Conflict); callers without the ``service`` role
        only with http URLs an enabled http store owns (Forbidden); http(s) URLs must pass the
        web-download URI filtering (InvalidInput); a running import holds the image
        (Conflict). The location's ``store`` is the backend owning the URL, never the caller's.
        """
        image = self._stack.fetch(image_id)
        if not isinstance(url, str) or not url or len(url) > 255:
            raise InvalidInput("Invalid value for 'url': a non-empty string of at most 255 "
                               "characters is required.")
        if image.status != "queued":
            raise Conflict(f"It's not allowed to add locations if image status is "
                           f"{image.status}.")
        ctx = self.context
        if "service" not in (*ctx.roles, *ctx.service_roles) and (
            not url.startswith("http") or self._location_backend(url) is None
        ):
            raise Forbidden("http store must be enabled to use location API by normal user.")
        # restricted schemes (file://...) never, whoever asks; the URL in its one spelling
        url = location_rules.settable_url(url, self._stores.restricted_schemes())
        backend = self._location_backend(url)
        scheme = location_rules.scheme_of(url)
        if scheme in ("http", "https") and not self._passes_uri_filtering(url):
            raise InvalidInput(f"URI for add location does not pass filtering: {url}")
        if backend is None:
            raise InvalidInput(f"Invalid location: {url}")
        if self._importer is not None and LOCK_KEY in image.extra_properties:
            self._importer.check_lock(image)
        hashes = _location_hashes(validation_data, self._settings.hashing_algorithm)
        self._check_unshared(image, url, backend)
        try:
            size = self._stack.measure_location(image, url)
        except (NotFound, StoreUnavailable, InvalidInput):
            # the store's own text may name a path of this host: never shown to the caller
            raise InvalidInput("Invalid location") from None
        extra = {k: v for k, v in (metadata or {}).items() if k != "store"}
        location = Location(url=url, metadata={**extra, "store": backend})
        if self._importer is None:  # no task machinery: the hashes as given, none computed
            after = transition(image, "active", size=size, locations=(location,), **hashes)
            return self._stack.save(image, after, "add_location")
        # As Glance's location_import task: the location is added at once; with a hash to
        # verify the image is ``importing`` until the data's hash matched (else back to
        # ``queued``), without one it is ``active`` at once; either way the checksum and
        # os_hash_value of the data are computed in the background.
        algorithm = hashes.get("os_hash_algo", self._settings.hashing_algorithm)
        importer = self._importer
        task = importer.begin_location_import(  # the lock first, as Glance
            self.context, image,
            {"image_id": image.id, "loc_url": url, "validation_data": dict(validation_data or {})})
        try:
            current = self._stack.fetch(image_id)  # with the lock just taken
            if current.status != "queued":
                raise Conflict(f"It's not allowed to add locations if image status is "
                               f"{current.status}.")
            after = transition(current, "importing" if hashes else "active", size=size,
                               locations=(location,), os_hash_algo=algorithm)
            saved = self._stack.save(current, after, "add_location")
        except BaseException as exc:
            importer.abandon_location_import(task, str(exc) or type(exc).__name__)
            raise
        importer.submit_location_import(task, location, hashes.get("os_hash_value"))
        return saved

    def _passes_uri_filtering(self, url: str) -> bool:
        """Whether an http(s) location passes the web-download URI filtering (refused when no
        fetcher, hence no filtering, is configured)."""
        fetcher = self._importer.fetcher if self._importer is not None else None
        if fetcher is None:
            return False
        try:
            fetcher.check(url)
        except InvalidInput:
            return False
        return True

    def _location_backend(self, url: str) -> str | None:
        """The backend that owns ``url``, or None when no configured store does."""
        try:
            return self._stores.backend_of(url)
        except DomainError:
            return None

    def get_locations(self, image_id: str) -> list[Location]:
        """The image's active locations (policy ``fetch_image_location``: service role only by
        default, as in Glance)."""
        return self._stack.get_locations(self._stack.fetch(image_id))

    # -- interoperable import -----------------------------------------------------------------
    def _require_importer(self) -> Importer:
        if self._importer is None:
            raise NotFound("Interoperable image import is not available at this site.")
        return self._importer

    def stage_data(
        self, image_id: str, data: Iterable[bytes], *, size: int | None = None
    ) -> Image:
        """Stage bytes for a later ``glance-direct`` import (``queued -> uploading``).

        NotFound when glance-direct is not enabled. On failure the image returns to
        ``queued`` and nothing stays staged.
        """
        if GLANCE_DIRECT not in self._settings.enabled_import_methods:
            raise NotFound("'glance-direct' method is not available at this site.")
        self._require_importer()
        image = self._stack.fetch(image_id)
        if size is not None and (isinstance(size, bool) or size < 0):
            raise InvalidInput("Invalid value for 'size': it must be a non-negative integer.")
        return self._stack.stage(image, data, size)

    def import_image(self, image_id: str, request: ImportRequest) -> Task | None:
        """Start an import (Glance's ``POST /v2/images/{id}/import``); returns the pending
        task, which runs in the background (None when there is nothing to do).

        Errors: unknown method -> InvalidInput; wrong image status, missing formats, an import
        already running, unknown store -> Conflict; a copy target that already holds the data
        or a URL refused by filtering -> InvalidInput.
        """
        method = request.method
        if method not in self._settings.enabled_import_methods:
            raise InvalidInput(f"Unknown import method name '{method}'.")
        importer = self._require_importer()
        image = self._stack.fetch(image_id)
        if image.status == "active" and method != COPY_IMAGE:
            raise Conflict("Image with status active cannot be target for import")
        if image.status != "active" and method == COPY_IMAGE:
            raise Conflict("Only images with status active can be targeted for copying")
        if image.status != "queued" and method in (WEB_DOWNLOAD, GLANCE_DOWNLOAD):
            raise Conflict(f"Image needs to be in 'queued' state to use '{method}' method")
        if image.status != "uploading" and method == GLANCE_DIRECT:
            raise Conflict("Image needs to be staged before 'glance-direct' method can be used")
        if not image.container_format:
            raise Conflict("'container_format' needs to be set before import")
        if not image.disk_format:
            raise Conflict("'disk_format' needs to be set before import")
        if method == GLANCE_DOWNLOAD:
            glance_download.check_request(request)
        self._stack.check_import(image, request)
        return importer.start(self.context, image, request)

    def check_tasks_access(self) -> None:
        """PolicyDenied unless the caller may use Glance's tasks API (``tasks_api_access``,
        admins by default). The HTTP tasks API checks it first, before reading the request."""
        self._stack.check_api_rule("tasks_api_access")

    def check_api_rule(self, rule: str, image_id: str | None = None) -> Image | None:
        """PolicyDenied unless the caller passes ``rule`` (on the image, when ``image_id`` is
        given: NotFound "Image X not found." if it cannot see it). For API endpoints that only
        check a rule, such as the image cache API of a service without a cache."""
        image = None
        if image_id is not None:
            image = self._fetch(image_id, f"Image {image_id} not found.")
        self._stack.check_api_rule(rule, image)
        return image

    def find_image(self, image_id: str) -> Image:
        """The image if the caller may see it, with no policy rule of its own (NotFound
        "Image X not found." otherwise): for API endpoints that check their rule without the
        image, as Glance's cache API looks up the image after ``list_cached_nodes``."""
        return self._fetch(image_id, f"Image {image_id} not found.")

    def create_task(self, task_type: str, task_input: Mapping[str, Any] | None) -> Task:
        """A task through the tasks API (Glance's legacy ``import`` type; see
        :mod:`glance_domain.importing.legacy`). Checks ``tasks_api_access``.

        Returns the ``pending`` task; its work runs in the background. InvalidInput for an
        unknown type or an ``import_from`` URL that is refused.
        """
        self.check_tasks_access()
        return legacy.create_task(self, self._require_importer(), task_type, task_input)

    def image_tasks(self, image_id: str) -> list[Task]:
        """The (unexpired) tasks of an image the caller may see (NotFound otherwise)."""
        image = self._stack.get(image_id)
        if self._importer is None:
            return []
        return self._importer.tasks.list(image_id=image.id)

    def list_tasks(self) -> list[Task]:
        """Tasks visible to the caller: all for admins, else those of its project."""
        if self._importer is None:
            return []
        owner = None if self.context.is_admin else (self.context.owner or "")
        return self._importer.tasks.list(owner=owner)

    def get_task(self, task_id: str) -> Task:
        """One task (NotFound if absent or owned by another project, for non-admins)."""
        if self._importer is None:
            raise NotFound(f"Task with the given id {task_id} was not found")
        task = self._importer.tasks.get(task_id)
        if not visibility.owns(self.context, task.owner):
            raise NotFound(f"Task with the given id {task_id} was not found")
        return task

    # -- members ----------------------------------------------------------------------------
    def list_members(self, image_id: str) -> list[Member]:
        image = self._fetch_for_sub_resource(image_id)
        return self._stack.list_members(image)

    def get_member(self, image_id: str, member_id: str) -> Member:
        image = self._fetch_for_sub_resource(image_id)
        return self._stack.get_member(image, member_id)

    def add_member(self, image_id: str, member_id: str) -> Member:
        image = self._fetch_for_sub_resource(image_id)
        member = self._factory.new_member(image, member_id)
        return self._stack.add_member(image, member)

    def update_member(self, image_id: str, member_id: str, status: str) -> Member:
        if status not in MEMBER_STATUSES:
            raise InvalidInput('Status must be "pending", "accepted" or "rejected".')
        image = self._fetch_for_sub_resource(image_id)
        member = self._stack.fetch_member(image, member_id)
        after = attrs.evolve(member, status=status, updated_at=self._factory.now())
        return self._stack.save_member(image, member, after)

    def remove_member(self, image_id: str, member_id: str) -> None:
        image = self._fetch_for_sub_resource(image_id)
        member = self._stack.fetch_member(image, member_id)
        self._stack.remove_member(image, member)

    # -- info -------------------------------------------------------------------------------
    def stores(self) -> list[BackendInfo]:
        return self._stores.backends()

    def usage(self) -> Usage:
        owner = self.context.owner
        if owner is None:
            return Usage()
        return self._repository.usage(owner)


def _with_unreadable(image: Image, view: Image, after: Image) -> Image:
    """``after`` (changed from ``view``, the caller's reading of ``image``) with the extra
    properties the caller could not read put back as they are, unless it created them anew."""
    if view is image:
        return after
    hidden = {k: v for k, v in image.extra_properties.items() if k not in view.extra_properties}
    if not hidden:
        return after
    return attrs.evolve(after, extra_properties={**hidden, **after.extra_properties})


def _location_hashes(validation_data: dict[str, Any] | None, algorithm: str) -> dict[str, str]:
    """``validation_data`` of the add-location API, checked as Glance does (InvalidInput):
    ``os_hash_algo`` (a known algorithm, default the configured one) and ``os_hash_value`` (hex
    of that algorithm's digest size); no other key."""
    data = dict(validation_data or {})
    unknown = sorted(set(data) - {"os_hash_algo", "os_hash_value"})
    if unknown:
        raise InvalidInput("Provided object does not match schema 'location': Additional "
                           f"properties are not allowed ({unknown[0]!r} was unexpected)")
    if "os_hash_value" not in data:
        return {}
    algo = str(data.get("os_hash_algo", algorithm))
    value = data["os_hash_value"]
    try:
        digest = hashlib.new(algo).digest_size
    except (ValueError, TypeError):
        raise InvalidInput(f"Unknown hashing algorithm: {algo}") from None
    length = hex_length(value)
    if length is None:
        raise InvalidInput(f"os_hash_value ({value}) is not a valid hexadecimal value")
    if length != digest:
        raise InvalidInput(f"os_hash_value: ({value}) is not the correct size for ({algo}) "
                           f"(should be ({digest}) bytes)")
    return {"os_hash_algo": algo, "os_hash_value": value}
