"""The import workflow: request-time checks and task creation, then the background run.

``start`` (in the request; authorization and policy were checked by the layer stack):
resolve the target stores, validate the source (``web-download`` URL filtering, ``copy-image``
targets), take the image's import lock (the ``os_glance_import_task`` property), record a
``pending`` task and hand ``run`` to the executor.

``run`` (in the background, with service rights like Glance's admin repository): the task goes
``processing``; the image goes ``importing`` (not for copy-image) with
``os_glance_importing_to_stores``; the data is brought into the staging area (already there for
glance-direct, downloaded for web-download, read from an existing location for copy-image); the
configured import plugins run on it (not for copy-image, as in Glance); it is written to each
target store, adding a location each time, and the image becomes ``active``
with the last required store. Staging is emptied, the task ``success``, and the lock dropped
last: once the lock is gone, the task has ended and its clean-up is done.

Any failure reverts: data written by this task is deleted from the stores and its locations
removed, staging is emptied, the stores still pending are moved to ``os_glance_failed_import``,
the image returns to ``queued`` (copy-image leaves it active; a ``disk_format`` or
``container_format`` an import plugin changed is put back, properties it set stay, as in
Glance), the task ends in ``failure`` with the error as its message, and the lock is dropped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs

from glance_domain import location_rules
from glance_domain.context import RequestContext
from glance_domain.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    SignatureVerificationFailed,
)
from glance_domain.formats import RawFormatInspector
from glance_domain.importing import glance_download
from glance_domain.importing.plugins import ImportJob, ImportPlugin, ImportPluginFailed
from glance_domain.importing.request import (
    COPY_IMAGE,
    GLANCE_DIRECT,
    GLANCE_DOWNLOAD,
    WEB_DOWNLOAD,
    ImportRequest,
)
from glance_domain.layers.notification import image_payload, import_properties
from glance_domain.model.image import Image
from glance_domain.model.location import Location
from glance_domain.model.status import transition
from glance_domain.model.task import TASK_TYPE_IMPORT, Task, task_transition
from glance_domain.ports import (
    Clock,
    FormatInspector,
    ImageRepository,
    ImageSignatures,
    Notifier,
    RemoteImages,
    StagingArea,
    StoredData,
    StoreRegistry,
    TaskExecutor,
    TaskRepository,
    UriFetcher,
)
from glance_domain.settings import DomainSettings
from glance_domain.signing import verified

LOG = logging.getLogger(__name__)

#: The task type of the add-location API's background hashing (Glance's name).
TASK_TYPE_LOCATION_IMPORT = "location_import"

LOCK_KEY = "os_glance_import_task"
IMPORTING_KEY = "os_glance_importing_to_stores"
FAILED_KEY = "os_glance_failed_import"
STAGE_HOST_KEY = "os_glance_stage_host"
#: A lock held by an unfinished task older than this may be taken over (Glance: 1 hour,
#: doubled for pending tasks).
LOCK_EXPIRY = dt.timedelta(minutes=60)
#: How often a running copy records its progress on its task ("Copied N MiB", as Glance):
#: that keeps the task's ``updated_at`` fresh, so its lock is never taken for stale mid-copy.
PROGRESS_INTERVAL = dt.timedelta(seconds=60)


class ImportAborted(DomainError):
    """The import cannot go on (lost lock, image deleted, no store succeeded)."""


def merge_stores(value: str | None, stores: Iterable[str], *, remove: bool = False) -> str:
    """A comma-separated store list with ``stores`` added (or removed), sorted like Glance's."""
    current = {s for s in (value or "").split(",") if s}
    wanted = {s for s in stores if s}
    merged = current - wanted if remove else current | wanted
    return ",".join(sorted(merged))


class Importer:
    """Runs interoperable imports over the domain's ports (one per gateway)."""

    def __init__(
        self,
        *,
        repository: ImageRepository,
        stores: StoreRegistry,
        staging: StagingArea,
        tasks: TaskRepository,
        executor: TaskExecutor,
        settings: DomainSettings,
        clock: Clock,
        fetcher: UriFetcher | None = None,
        inspector: FormatInspector | None = None,
        notifier: Notifier | None = None,
        plugins: Sequence[ImportPlugin] = (),
        property_check: Callable[[RequestContext, str, str], bool] | None = None,
        signatures: ImageSignatures | None = None,
        remote_images: RemoteImages | None = None,
    ) -> None:
        self.repository = repository
        #: Another region's Glance, for the glance-download method (None: it fails).
        self.remote_images = remote_images
        #: Verifies signed images' data on its first write to a store (glance-direct and
        #: web-download; copy-image copies data that was verified when first stored).
        self.signatures = signatures
        #: Run in order on glance-direct and web-download imports, between staging and the
        #: stores (``glance_domain.importing.plugins``).
        self.plugins: tuple[ImportPlugin, ...] = tuple(plugins)
        #: ``(context, property, operation) -> allowed``: the property protections that
        #: apply to properties plugins set for the importing user (None: none configured).
        self.property_check = property_check
        #: image.prepare / image.upload / image.activate for each store written, sent as the
        #: caller who started the import (as Glance's import flow does through its notifier).
        self.notifier = notifier
        self.inspector: FormatInspector = inspector or RawFormatInspector()
        self.stores = stores
        self.staging = staging
        self.tasks = tasks
        self.executor = executor
        self.settings = settings
        self.clock = clock
        self.fetcher = fetcher

    # -- request time -------------------------------------------------------------------------
    def target_stores(self, image: Image, request: ImportRequest) -> list[str]:
        """The backends to import into (Glance's rules for ``stores``/``all_stores``/header)."""
        backends = self.stores.backends()
        known = {b.id for b in backends}
        if request.all_stores:
            if request.stores is not None or request.store_header is not None:
                raise InvalidInput("All_stores parameter can't be used with x-image-meta-store "
                                   "header or stores parameter")
            stores = [b.id for b in backends
                      if not b.read_only and not b.id.startswith("os_glance_")]
        elif request.stores is not None:
            if request.store_header is not None:
                raise InvalidInput("Stores parameter and x-image-meta-store header can't be "
                                   "both specified")
            stores = list(request.stores)
        else:
            stores = [request.store_header or self.stores.default_backend()]
        for store in stores:
            if store not in known:
                raise Conflict(f"Store for identifier {store} not found")
        if request.method == COPY_IMAGE:
            present = {loc.backend for loc in image.locations if loc.status == "active"}
            if request.all_stores:
                stores = [s for s in stores if s not in present]
            else:
                for store in stores:
                    if store in present:
                        raise InvalidInput(f"Image is already present at store '{store}'")
        return stores

    def start(
        self, context: RequestContext, image: Image, request: ImportRequest
    ) -> Task | None:
        """Validate, lock the image, record a pending task and schedule it (None: nothing to
        do, e.g. a copy to all stores of an image already in all of them)."""
        if LOCK_KEY in image.extra_properties:
            self.check_lock(image)
        stores = self.target_stores(image, request)
        if not stores:
            return None
        if request.method == WEB_DOWNLOAD:
            self._check_uri(request.uri)
        now = self.clock.now()
        task = Task(
            id=str(uuid.uuid4()),
            type=TASK_TYPE_IMPORT,
            owner=context.owner,
            image_id=image.id,
            user_id=context.user_id,
            request_id=context.request_id,
            input={"image_id": image.id, "import_req": dict(request.body), "backend": stores},
            created_at=now,
            updated_at=now,
        )
        # The task is recorded BEFORE the lock names it, as Glance does: a lock whose task
        # cannot be found is taken for stale (check_lock), so a request racing this one must
        # never see the lock before its task exists.
        self.tasks.add(task)
        self._take_lock(image, task)
        try:
            self.executor.submit(lambda: self.run(task.id, request, stores, context=context))
        except Exception as exc:  # e.g. the pool is shut down: do not leave the image locked
            self.finish_task(task, "failure", "The import task could not be scheduled.", None)
            with contextlib.suppress(DomainError):
                self.repository.set_property_atomic(image.id, LOCK_KEY, None, expected=task.id)
            raise ServiceUnavailable("The import task could not be scheduled.") from exc
        return task

    # -- the add-location API's background hashing (Glance's ``location_import`` task) -------
    def begin_location_import(
        self, context: RequestContext, image: Image, task_input: dict[str, Any]
    ) -> Task:
        """Record a ``location_import`` task for ``image`` and take its import lock (a stale
        holder, already judged by :meth:`check_lock`, is taken over); Conflict if another
        operation holds it. The caller then saves the image and calls
        :meth:`submit_location_import`, or :meth:`abandon_location_import` if it cannot."""
        now = self.clock.now()
        task = Task(
            id=str(uuid.uuid4()), type=TASK_TYPE_LOCATION_IMPORT, owner=context.owner,
            image_id=image.id, user_id=context.user_id, request_id=context.request_id,
            input=task_input, created_at=now, updated_at=now,
        )
        self.tasks.add(task)
        self._take_lock(image, task)
        return task

    def abandon_location_import(self, task: Task, message: str) -> None:
        """The image could not be given its location: the task fails, the lock goes."""
        self.finish_task(task, "failure", message, None)
        self._unlock(str(task.image_id), task.id)

    def submit_location_import(
        self, task: Task, location: Location, expected_hash: str | None
    ) -> None:
        """Schedule :meth:`run_location_import`; if that is impossible the image loses the
        location again (when it waits for a hash) and ServiceUnavailable is raised."""
        try:
            self.executor.submit(
                lambda: self.run_location_import(task.id, location, expected_hash))
        except Exception as exc:
            self._revert_location(str(task.image_id), task.id, location)
            self.abandon_location_import(task, "The task could not be scheduled.")
            raise ServiceUnavailable("The task could not be scheduled.") from exc

    def run_location_import(
        self, task_id: str, location: Location, expected_hash: str | None
    ) -> None:
        """Compute the checksum and os_hash_value of the data at ``location``; with an
        ``expected_hash``, the ``importing`` image becomes ``active`` only if it matches (else
        it goes back to ``queued`` without the location). Never raises."""
        try:
            task = self.tasks.save(task_transition(self.tasks.get(task_id), "processing"))
        except DomainError:
            LOG.exception("location import task %s cannot start", task_id)
            return
        image_id = str(task.image_id)
        try:
            image = self.repository.get(image_id)
            checksum, digest = self._hash_location(location, image.os_hash_algo
                                                   or self.settings.hashing_algorithm)
            if expected_hash is not None and digest != expected_hash.lower():
                raise ImportAborted(f"os_hash_value: ({expected_hash}) not matched with "
                                    f"actual os_hash_value: ({digest})")

            def hashed(img: Image) -> Image:
                if img.status == "importing":
                    return transition(img, "active", checksum=checksum, os_hash_value=digest)
                return attrs.evolve(img, checksum=checksum, os_hash_value=digest)

            self._update(image_id, task.id, hashed)
        except BaseException as exc:
            LOG.info("location import task %s for image %s failed: %s", task_id, image_id, exc)
            if expected_hash is not None:
                self._revert_location(image_id, task.id, location)
            self.finish_task(task, "failure", str(exc) or type(exc).__name__, None)
            self._unlock(image_id, task.id)
            if not isinstance(exc, Exception):
                raise
            return
        self.finish_task(task, "success", "", {"image_id": image_id})
        self._unlock(image_id, task.id)

    def _hash_location(self, location: Location, algorithm: str) -> tuple[str, str]:
        md5 = hashlib.md5(usedforsecurity=False)
        other = hashlib.new(algorithm)
        stream = self.stores.read(location.url)
        try:
            for chunk in stream:
                md5.update(chunk)
                other.update(chunk)
        finally:
            stream.close()
        return md5.hexdigest(), other.hexdigest()

    def _revert_location(self, image_id: str, task_id: str, location: Location) -> None:
        """An image whose hash did not match: back to ``queued``, without the location."""
        try:
            image = self.repository.get(image_id)
            if image.status != "importing":
                return
            after = transition(image, "queued", size=None, checksum=None, os_hash_algo=None,
                               os_hash_value=None, locations=tuple(
                                   loc for loc in image.locations if loc.url != location.url))
            self.repository.save(image, after)
        except DomainError:
            LOG.warning("location import task %s: cannot revert image %s", task_id, image_id,
                        exc_info=True)

    def _take_lock(self, image: Image, task: Task) -> None:
        """Make ``task`` the image's lock holder, atomically: of two racing requests (even on
        a stale holder, judged by :meth:`check_lock` before) one wins; the other's task fails
        and Conflict is raised."""
        holder = image.extra_properties.get(LOCK_KEY)
        try:
            self.repository.set_property_atomic(
                image.id, LOCK_KEY, task.id,
                expected=None if holder is None else str(holder))
        except Conflict:
            message = (f"New operation on image '{image.id}' is not permitted as prior "
                       "operation is still in progress")
            self.finish_task(task, "failure", message, None)
            raise Conflict(message) from None

    def _check_uri(self, uri: str | None) -> None:
        if not isinstance(uri, str) or not uri:
            raise InvalidInput(f"URI for web-download does not pass filtering: {uri}")
        if self.fetcher is None or location_rules.is_restricted(uri):
            raise InvalidInput(f"URI for web-download does not pass filtering: {uri}")
        try:
            self.fetcher.check(uri)
        except DomainError:
            raise InvalidInput(f"URI for web-download does not pass filtering: {uri}") from None

    def check_lock(self, image: Image) -> None:
        """Conflict while another import holds the image; a stale lock may be taken over."""
        holder = str(image.extra_properties[LOCK_KEY])
        try:
            other = self.tasks.get(holder)
        except NotFound:
            return  # the task is gone: the lock is stale
        expiry = LOCK_EXPIRY * 2 if other.status == "pending" else LOCK_EXPIRY
        if self.clock.now() - other.updated_at >= expiry:
            return
        if other.finished:
            return
        raise Conflict(f"Image {image.id} has active task {holder} in status {other.status}; "
                       "new operation on image is not permitted until it completes")

    # -- background ---------------------------------------------------------------------------
    def run(
        self, task_id: str, request: ImportRequest, stores: list[str],
        context: RequestContext | None = None,
    ) -> None:
        """Execute the task (see module docstring); never raises. ``context``: who started it
        (the notifications are sent as that caller; none without it)."""
        try:
            task = self.tasks.save(task_transition(self.tasks.get(task_id), "processing"))
        except DomainError:
            LOG.exception("import task %s cannot start", task_id)
            return
        image_id = str(task.image_id)
        written: list[StoredData] = []
        restore: dict[str, Any] = {}
        try:
            self._update(image_id, task.id, lambda img: self._prepare(img, request, stores))
            if request.method == GLANCE_DOWNLOAD:
                self._glance_download(image_id, task.id, request, context, restore)
            else:
                self._fill_staging(image_id, task.id, request)
            if request.method != COPY_IMAGE and self.plugins:
                self._run_plugins(image_id, task.id, request, stores, context, restore)
            copied = self._import_to_stores(image_id, task.id, request, stores, written,
                                            context)
            with contextlib.suppress(NotFound):
                self.staging.delete(image_id)
            self._update(image_id, task.id, self._check_active)
        except BaseException as exc:
            LOG.info("import task %s for image %s failed: %s", task_id, image_id, exc)
            self._revert(image_id, task.id, request, stores, written, restore)
            self.finish_task(task, "failure", str(exc) or type(exc).__name__, None)
            self._unlock(image_id, task.id)
            if not isinstance(exc, Exception):
                raise
            return
        # The lock goes last: whoever waits for it to disappear (clients polling the image)
        # then finds the task ended and its clean-up done (Glance also records success first).
        self.finish_task(task, "success", f"Copied {copied // (1 << 20)} MiB",
                     {"image_id": image_id})
        self._unlock(image_id, task.id)

    def _glance_download(
        self, image_id: str, task_id: str, request: ImportRequest,
        context: RequestContext | None, restore: dict[str, Any],
    ) -> None:
        """Take the remote image's formats and properties, then stage its data and check its
        size (``glance_domain.importing.glance_download``); ``restore`` receives what to put
        back if the import fails."""
        remote = self.remote_images
        if remote is None or context is None:
            raise ImportAborted("The glance-download import method is not available.")
        try:
            endpoint = glance_download.remote_endpoint(
                context.service_catalog, str(request.glance_region),
                request.glance_service_interface)
            record = remote.image(endpoint, str(request.glance_image_id), context.auth_token)
            formats, properties, size = glance_download.remote_metadata(
                record, self.settings.glance_download_properties)
        except glance_download.RemoteImageError as exc:
            raise ImportAborted(str(exc)) from None
        before = self.repository.get(image_id)
        restore.update(disk_format=before.disk_format, container_format=before.container_format,
                       properties={k: before.extra_properties.get(k) for k in properties})
        self._update(image_id, task_id, lambda img: attrs.evolve(
            img, **formats, extra_properties={**img.extra_properties, **properties}))
        try:
            stream = remote.open(endpoint, str(request.glance_image_id), context.auth_token)
        except glance_download.RemoteImageError as exc:
            raise ImportAborted(str(exc)) from None
        try:
            staged = self.staging.write(image_id, self._progress(image_id, task_id, stream),
                                        max_size=self.settings.image_size_cap)
        finally:
            stream.close()
        if staged != size:
            raise ImportAborted(f"Task {task_id} failed because downloaded data size {staged} "
                                f"is different from expected {size}")

    def _run_plugins(
        self, image_id: str, task_id: str, request: ImportRequest, stores: list[str],
        context: RequestContext | None, restore: dict[str, Any],
    ) -> None:
        """Run the import plugins in order on the staged data; ``restore`` receives the
        formats to put back if the import fails. A failing plugin raises
        :class:`ImportPluginFailed` naming it."""
        before = self.repository.get(image_id)
        check = self.property_check
        may: Callable[[str, str], bool] | None = None
        if check is not None and context is not None:
            def may(name: str, operation: str) -> bool:
                return check(context, name, operation)
        restore.update(disk_format=before.disk_format, container_format=before.container_format)
        job = ImportJob(
            image_id=image_id, task_id=task_id, method=request.method, stores=stores,
            context=context, staging=self.staging, settings=self.settings,
            usage=self.repository.usage,
            get=lambda: self.repository.get(image_id),
            update=lambda change: self._update(image_id, task_id, change),
            may=may,
        )
        for plugin in self.plugins:
            name = getattr(plugin, "name", None) or type(plugin).__name__
            LOG.debug("import task %s: running import plugin %s", task_id, name)
            try:
                plugin.run(job)
            except ImportAborted:
                raise
            except Exception as exc:
                LOG.warning("import task %s: import plugin %s failed: %s", task_id, name, exc,
                            exc_info=not isinstance(exc, DomainError))
                raise ImportPluginFailed(name, exc) from exc

    def _update(self, image_id: str, task_id: str, change: Callable[[Image], Image]) -> Image:
        """Apply ``change`` to the current image, if this task still holds its lock."""
        image = self.repository.get(image_id)
        if image.extra_properties.get(LOCK_KEY) != task_id:
            raise ImportAborted(f"Import task {task_id} lost its lock on image {image_id}.")
        after = change(image)
        if after is image:
            return image
        return self.repository.save(image, after)

    @staticmethod
    def _prepare(image: Image, request: ImportRequest, stores: list[str]) -> Image:
        props = dict(image.extra_properties)
        props[IMPORTING_KEY] = merge_stores(props.get(IMPORTING_KEY), stores)
        props[FAILED_KEY] = merge_stores(props.get(FAILED_KEY), stores, remove=True)
        props.pop(STAGE_HOST_KEY, None)
        if request.method == COPY_IMAGE:
            return attrs.evolve(image, extra_properties=props)
        if request.method == GLANCE_DIRECT and image.status != "uploading":
            raise ImportAborted("Image needs to be staged before 'glance-direct' method can "
                                "be used")
        return transition(image, "importing", extra_properties=props)

    def _progress(self, image_id: str, task_id: str, chunks: Iterable[bytes]
                  ) -> Iterator[bytes]:
        """``chunks`` passed through; every :data:`PROGRESS_INTERVAL` the task records how
        much was copied (refreshing it, so the lock it holds does not look stale however long
        the copy takes) and the copy stops if the task no longer holds the image's lock."""
        copied = 0
        last = self.clock.now()
        for chunk in chunks:
            copied += len(chunk)
            now = self.clock.now()
            if now - last >= PROGRESS_INTERVAL:
                last = now
                image = self.repository.get(image_id)
                if image.extra_properties.get(LOCK_KEY) != task_id:
                    raise ImportAborted(
                        f"Import task {task_id} lost its lock on image {image_id}.")
                task = self.tasks.get(task_id)
                self.tasks.save(attrs.evolve(task, message=f"Copied {copied >> 20} MiB"))
            yield chunk

    def _fill_staging(self, image_id: str, task_id: str, request: ImportRequest) -> None:
        cap = self.settings.image_size_cap
        if request.method == WEB_DOWNLOAD:
            assert self.fetcher is not None and request.uri is not None
            stream = self.fetcher.open(request.uri)
            try:
                self.staging.write(image_id, self._progress(image_id, task_id, stream),
                                   max_size=cap)
            finally:
                stream.close()
        elif request.method == COPY_IMAGE:
            image = self.repository.get(image_id)
            error: Exception = NotFound(f"Image {image_id} has no data to copy.")
            for location in image.locations:
                if location.status != "active":
                    continue
                try:
                    stream = self.stores.read(location.url)
                except Exception as exc:  # try the next copy
                    error = exc
                    continue
                try:
                    self.staging.write(image_id, self._progress(image_id, task_id, stream),
                                       max_size=cap)
                finally:
                    stream.close()
                return
            raise error
        elif not self.staging.exists(image_id):
            raise ImportAborted(f"No data is staged for image {image_id}.")

    def _import_to_stores(
        self, image_id: str, task_id: str, request: ImportRequest, stores: list[str],
        written: list[StoredData], context: RequestContext | None = None,
    ) -> int:
        copied = 0
        image = self.repository.get(image_id)
        for index, store in enumerate(stores, 1):
            before = self.repository.get(image_id)
            self._notify(context, "image.prepare",
                         {**image_payload(before), **import_properties(before), "backend": store})
            set_active = request.method != COPY_IMAGE and (
                not request.all_stores_must_succeed or index == len(stores)
            )
            stream = self.staging.read(image_id)
            data: Iterable[bytes] = self._progress(image_id, task_id, stream)
            signatures = self.signatures
            if signatures is not None and request.method != COPY_IMAGE and not written:
                make = functools.partial(signatures.verifier_for, context or RequestContext(),
                                         image)
                data = verified(data, make, image_id)
            stored: StoredData | None = None
            virtual_size: int | None = None
            try:
                if request.method == COPY_IMAGE:  # the data was inspected when first stored
                    stored = self.stores.write(
                        image_id, data, backend=store, max_size=self.settings.image_size_cap
                    )
                else:
                    inspected = self.inspector.inspect(
                        data, disk_format=image.disk_format,
                        container_format=image.container_format,
                    )
                    stored = self.stores.write(
                        image_id, inspected, backend=store,
                        max_size=self.settings.image_size_cap,
                    )
                    virtual_size = inspected.verdict()
            except Exception as exc:
                self._notify(context, "image.upload", {
                    "image_id": image_id,
                    "message": f"Failed to upload image data for image {image_id}: {exc}",
                }, level="ERROR")
                if stored is not None:
                    with contextlib.suppress(Exception):
                        self.stores.delete(stored.url)
                if request.all_stores_must_succeed or isinstance(exc,
                                                                 SignatureVerificationFailed):
                    raise
                LOG.warning("import task %s: store %s failed, continuing", task_id, store)
                self._update(image_id, task_id, _failed_store(store))
                continue
            finally:
                stream.close()
            assert stored is not None
            written.append(stored)
            copied = stored.size
            after = self._update(image_id, task_id,
                                 _location_adder(stored, set_active, virtual_size))
            self._notify(context, "image.upload", {**image_payload(after),
                                                   **import_properties(after)})
            if before.status != "active" and after.status == "active":
                self._notify(context, "image.activate", image_payload(after))
        return copied

    def _notify(
        self, context: RequestContext | None, event: str, payload: dict[str, object],
        level: str = "INFO",
    ) -> None:
        """Send one notification; a failing notifier never fails the import."""
        if self.notifier is None or context is None:
            return
        try:
            self.notifier.notify(context, event, payload, level=level)
        except Exception:
            LOG.warning("import: cannot send %s for image %s", event,
                        payload.get("image_id", payload.get("id")), exc_info=True)

    @staticmethod
    def _check_active(image: Image) -> Image:
        if image.status != "active":
            raise ImportAborted("None of the uploads finished!")
        return image

    def _unlock(self, image_id: str, task_id: str) -> None:
        """Drop the lock, only if this task still holds it (and the image still exists)."""
        try:
            self.repository.set_property_atomic(image_id, LOCK_KEY, None, expected=task_id)
        except (Conflict, NotFound):
            pass
        except Exception:
            LOG.warning("import task %s: cannot drop its lock on image %s (it expires)",
                        task_id, image_id, exc_info=True)

    def _revert(
        self, image_id: str, task_id: str, request: ImportRequest, stores: list[str],
        written: list[StoredData], restore: dict[str, Any] | None = None,
    ) -> None:
        # Commit first, then delete the data best-effort: if the save fails, the image still
        # lists the copies written so far, so their data must stay.
        with contextlib.suppress(Exception):
            current = self.repository.get(image_id)
            holder = current.extra_properties.get(LOCK_KEY)
            if holder is not None and holder != task_id:
                # another task took the image over: its staging and store lists are its own;
                # only this task's data no location points at is removed
                listed = {loc.url for loc in current.locations}
                self._delete_written([s for s in written if s.url not in listed], task_id)
                return
        with contextlib.suppress(Exception):
            self.staging.delete(image_id)
        urls = {s.url for s in written}
        try:
            image = self.repository.get(image_id)
            props = dict(image.extra_properties)
            pending = [s for s in stores if s in (props.get(IMPORTING_KEY) or "").split(",")]
            props[IMPORTING_KEY] = merge_stores(props.get(IMPORTING_KEY), stores, remove=True)
            props[FAILED_KEY] = merge_stores(props.get(FAILED_KEY), pending)
            after = attrs.evolve(
                image,
                extra_properties=props,
                locations=tuple(loc for loc in image.locations if loc.url not in urls),
            )
            if request.method != COPY_IMAGE and after.status in ("importing", "uploading"):
                back = dict(restore or {})
                for name, value in back.pop("properties", {}).items():  # glance-download's
                    if value is None:
                        props.pop(name, None)
                    else:
                        props[name] = value
                after = transition(after, "queued", checksum=None, os_hash_algo=None,
                                   os_hash_value=None, extra_properties=props, **back)
            self.repository.save(image, after)
        except NotFound:
            pass  # the image is gone: nothing points at the data any more
        except Exception:
            LOG.warning("import task %s: cannot revert image %s; its data is kept",
                        task_id, image_id, exc_info=True)
            return
        self._delete_written(written, task_id)

    def _delete_written(self, written: list[StoredData], task_id: str) -> None:
        for stored in written:
            try:
                self.stores.delete(stored.url)
            except Exception:
                LOG.warning("import task %s: cannot delete data written to %s (left behind)",
                            task_id, stored.backend, exc_info=True)

    def finish_task(
        self, task: Task, status: str, message: str, result: dict[str, str] | None
    ) -> None:
        now = self.clock.now()
        expires = now + dt.timedelta(hours=self.settings.task_time_to_live)
        try:
            current = self.tasks.get(task.id)
            self.tasks.save(task_transition(current, status, message=message, result=result,
                                            expires_at=expires))
        except DomainError:
            LOG.exception("cannot record the end of import task %s", task.id)


def _failed_store(store: str) -> Callable[[Image], Image]:
    """A change moving ``store`` from the importing list to the failed list."""

    def change(image: Image) -> Image:
        props = dict(image.extra_properties)
        props[FAILED_KEY] = merge_stores(props.get(FAILED_KEY), [store])
        props[IMPORTING_KEY] = merge_stores(props.get(IMPORTING_KEY), [store], remove=True)
        return attrs.evolve(image, extra_properties=props)

    return change


def _location_adder(
    stored: StoredData, set_active: bool, virtual_size: int | None = None
) -> Callable[[Image], Image]:
    """A change adding the new copy's location; active (with size, virtual size and hashes)
    when asked."""

    def change(image: Image) -> Image:
        location = Location(url=stored.url,
                            metadata={**stored.metadata, "store": stored.backend})
        props = dict(image.extra_properties)
        props[IMPORTING_KEY] = merge_stores(props.get(IMPORTING_KEY), [stored.backend],
                                            remove=True)
        after = attrs.evolve(image, locations=(*image.locations, location),
                             extra_properties=props)
        if image.checksum is None:
            after = attrs.evolve(after, size=stored.size, virtual_size=virtual_size,
                                 checksum=stored.checksum,
                                 os_hash_algo=stored.hash_algo,
                                 os_hash_value=stored.hash_value)
        if set_active and image.status == "importing":
            return transition(after, "active")
        return after

    return change
