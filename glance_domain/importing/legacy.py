"""Tasks created through ``POST /v2/tasks``: Glance's legacy ``import`` task type.

Before interoperable import, an admin created an image and filled it from a URL in one call:
``{"type": "import", "input": {"import_from": URL, "import_from_format": FORMAT,
"image_properties": {...}}}``. Glance 33 still accepts it (the tasks API is admin-only), and
so do we, with the same request-time checks:

- ``import_from`` must be an ``http://`` or ``https://`` URL (``file://`` refused with its own
  message) that passes the same filtering as ``web-download`` (:meth:`UriFetcher.check`);
- the task is recorded ``pending`` and answered at once; the work runs in the background.

The background run, for the task's creator (so every layer applies: policy, quota,
notifications): the task goes ``processing``; an image is created from ``image_properties``
(Glance's writable attributes; anything else becomes an extra property); the URL is streamed
into the default store through the normal upload path (``queued -> saving -> active``, size cap,
checksums); the task ends ``success`` with ``{"image_id": ...}`` as its result. On any failure
the task ends ``failure`` with the error as its message, and the image it created is deleted
again through the layers (Glance reverts the same way), unless it has changed meanwhile (its
owner uploaded to it): then it is left alone.

The other task types (``api_image_import``, ``location_import``) are created by the image
import and location APIs. A tasks-API request for them is accepted, as Glance accepts it, but
the task fails at once: such a task would bypass the image's import lock.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from glance_domain import location_rules
from glance_domain.errors import DomainError, InvalidInput, NotFound, ServiceUnavailable
from glance_domain.importing.importer import Importer
from glance_domain.model import validation
from glance_domain.model.image import Image
from glance_domain.model.task import Task, task_transition

if TYPE_CHECKING:
    from glance_domain.service import ImageService

LOG = logging.getLogger(__name__)

LEGACY_IMPORT = "import"
#: The task types the tasks API's schema admits (Glance's enum).
TASK_TYPES = ("import", "api_image_import", "location_import")
FILE_IMPORT_REFUSED = ("File based imports are not allowed. Please use a non-local source of "
                       "image data.")


def check_import_from(importer: Importer, uri: object) -> str:
    """The ``import_from`` URL if Glance would accept it, else InvalidInput with its words."""
    if not isinstance(uri, str) or not uri:
        raise InvalidInput(f"Invalid location: {uri}")
    if location_rules.scheme_of(uri) in ("file", "filesystem"):  # any spelling of them
        raise InvalidInput(FILE_IMPORT_REFUSED)
    if not uri.startswith(("http://", "https://")):
        raise InvalidInput("The given uri is not valid. Please specify a valid uri from the "
                           "following list of supported uri ['http']")
    refused = InvalidInput(f"URI for legacy import task does not pass filtering: {uri}")
    if importer.fetcher is None:
        raise refused
    try:
        importer.fetcher.check(uri)
    except DomainError:
        raise refused from None
    return uri


def create_task(
    service: ImageService, importer: Importer, task_type: str,
    task_input: Mapping[str, Any] | None,
) -> Task:
    """Record a ``pending`` task of ``task_type`` and schedule its run (see module docstring).

    InvalidInput for an unknown type or a refused ``import_from``; nothing is recorded then.
    """
    if task_type not in TASK_TYPES:
        raise InvalidInput(f"Task type {task_type} is not supported.")
    task_input = dict(task_input or {})
    uri = check_import_from(importer, task_input.get("import_from")) \
        if task_type == LEGACY_IMPORT else None
    context = service.context
    now = importer.clock.now()
    image_id = task_input.get("image_id")
    task = Task(
        id=str(uuid.uuid4()),
        type=task_type,
        owner=context.owner,
        image_id=image_id if isinstance(image_id, str) else None,
        user_id=context.user_id,
        request_id=context.request_id,
        input=task_input,
        created_at=now,
        updated_at=now,
    )
    importer.tasks.add(task)
    if uri is None:
        work = _refuse(importer, task)
    else:
        work = _LegacyImport(service, importer, task, uri).run
    try:
        importer.executor.submit(work)
    except Exception as exc:  # e.g. the pool is shut down
        importer.finish_task(task, "failure", "The task could not be scheduled.", None)
        raise ServiceUnavailable("The task could not be scheduled.") from exc
    return task


#: What Glance's flows say when such a task lacks its image (the usual case from this API).
MISSING_IMAGE = {"api_image_import": "Missing required 'image_id' field",
                 "location_import": "Input does not contain 'image_id' field"}


def _refuse(importer: Importer, task: Task) -> Any:
    def work() -> None:
        message = MISSING_IMAGE[task.type] if not task.input.get("image_id") else (
            f"Tasks of type {task.type} are created by the image import and location APIs, "
            "not the tasks API.")
        importer.finish_task(task, "failure", message, None)
    return work


class _LegacyImport:
    """The background run of one ``import`` task (create image, fetch, upload, finish)."""

    def __init__(self, service: ImageService, importer: Importer, task: Task, uri: str) -> None:
        self.service = service
        self.importer = importer
        self.task = task
        self.uri = uri

    def run(self) -> None:
        """Execute the task; never raises (the outcome is recorded on the task)."""
        tasks = self.importer.tasks
        try:
            task = tasks.save(task_transition(tasks.get(self.task.id), "processing"))
        except DomainError:
            LOG.exception("legacy import task %s cannot start", self.task.id)
            return
        image: Image | None = None
        try:
            image = self.service.create_image(**_image_attributes(task.input))
            self._fill(image)
        except BaseException as exc:
            LOG.info("legacy import task %s failed: %s", task.id, exc)
            if image is not None:
                self._delete(image)
            self.importer.finish_task(task, "failure", str(exc) or type(exc).__name__, None)
            if not isinstance(exc, Exception):
                raise
            return
        self.importer.finish_task(task, "success", "", {"image_id": image.id})

    def _fill(self, image: Image) -> None:
        assert self.importer.fetcher is not None  # checked when the task was created
        stream = self.importer.fetcher.open(self.uri)
        try:
            size = stream.length if stream.length >= 0 else None
            self.service.upload_data(image.id, stream, size=size)
        finally:
            stream.close()

    def _delete(self, image: Image) -> None:
        """Delete the image this task created, as Glance's revert does, but only while it is
        as the task left it (``queued``, no data): meanwhile its owner may have uploaded to it
        or imported into it, and that image is not the task's to delete. The delete goes
        through the layers as the caller (the data and ``image.delete`` notification with it);
        a ``protected`` flag that came from ``image_properties`` is cleared first."""
        repository = self.importer.repository
        try:
            current = repository.get(image.id)
            if current.status != "queued" or current.locations or current.size:
                LOG.warning("legacy import task %s: image %s changed since the task created "
                            "it (%s); not deleted", self.task.id, image.id, current.status)
                return
            if current.protected:
                repository.save(current, attrs.evolve(current, protected=False))
            self.service.delete_image(image.id)
        except NotFound:
            return
        except Exception:
            LOG.warning("legacy import task %s: cannot delete image %s", self.task.id,
                        image.id, exc_info=True)


def _image_attributes(task_input: Mapping[str, Any]) -> dict[str, Any]:
    """``image_properties`` as ``create_image`` keywords (InvalidInput if not an object).

    Glance's writable attributes stay keywords (validated as on create); read-only and
    reserved names are refused (the task fails); every other name is an extra property, its
    value turned into a string where it is not one (Glance stores what the task gives it as
    text: no API schema applies to this path)."""
    properties = task_input.get("image_properties")
    if properties is None:
        return {}
    if not isinstance(properties, Mapping):
        raise InvalidInput("image_properties must be an object.")
    core: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for key, value in properties.items():
        name = str(key)
        if name in validation.WRITABLE_ATTRIBUTES:
            core[name] = value
            continue
        validation.check_writable_name(name)
        extra[name] = value if isinstance(value, str) else str(value)
    if extra:
        core["extra_properties"] = extra
    return core


__all__ = ["LEGACY_IMPORT", "TASK_TYPES", "check_import_from", "create_task"]

