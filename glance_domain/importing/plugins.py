"""Import plugins: steps that run on a ``glance-direct`` or ``web-download`` import after the
data is staged and before it is written to the stores (never on ``copy-image``: the data is
already an image's), in the configured order.

A plugin is any object with ``run(job)``; the :class:`ImportJob` it is handed offers exactly
what Glance's import plugins may do: read the image, set its ``disk_format``,
``container_format``, ``size`` or ``virtual_size``, merge extra properties (never in the
reserved ``os_glance`` namespace; within the importing user's property protections and
``image_property_quota``), and read or replace the
staged data (replacements are capped at ``image_size_cap`` and the owner's remaining
``user_storage_quota``). A plugin that raises fails the import: the task ends in ``failure``
naming the plugin, the image goes back to ``queued`` with its target stores in
``os_glance_failed_import`` and the staged data is deleted (see
:class:`~glance_domain.importing.importer.Importer`).

Servers load plugins from entry points (``glance_domain_adapters.importing.plugins``); an
embedding program hands them to the ``Gateway`` directly::

    class Tagger:
        def run(self, job):
            job.set_properties({"imported_by": job.context.user_id or ""})

    gateway = Gateway(..., import_plugins=[NamedPlugin("tagger", Tagger())])
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import attrs

from glance_domain.context import RequestContext
from glance_domain.errors import ProtectedProperty, QuotaExceeded
from glance_domain.layers.quota import UsageSource, data_limit, limit_text
from glance_domain.model.image import CORE_ATTRIBUTES, READ_ONLY_ATTRIBUTES, Image
from glance_domain.model.validation import RESERVED_NAMES, RESERVED_PREFIX
from glance_domain.ports import DataStream, StagingArea
from glance_domain.settings import DomainSettings
from glance_domain.streams import capped

#: Names a plugin may not set as extra properties (dropped with a warning): the core attributes,
#: the ones the API computes or reserves; set through them, a property named ``direct_url`` or
#: ``visibility`` would shadow or fake the real attribute in the image's answers.
_NOT_PROPERTIES = frozenset(CORE_ATTRIBUTES) | READ_ONLY_ATTRIBUTES | RESERVED_NAMES

LOG = logging.getLogger(__name__)

#: The image attributes a plugin may set (Glance's list, without ``status``: the importer
#: owns the status machine).
SETTABLE_ATTRIBUTES = frozenset({"disk_format", "container_format", "size", "virtual_size"})


@runtime_checkable
class ImportPlugin(Protocol):
    """One step of an import, run on the staged data and/or the image's metadata.

    ``run`` raises to fail the import; its message becomes part of the task's message. One
    object serves every import, possibly several at once: keep no per-import state on it.
    """

    def run(self, job: ImportJob) -> None: ...


@runtime_checkable
class LocalStaging(Protocol):
    """A ``StagingArea`` that keeps staged data as local files (tools such as ``qemu-img``
    need a path); optional: plugins copy the data to a file of their own otherwise."""

    def local_path(self, image_id: str) -> str: ...


@attrs.frozen
class NamedPlugin:
    """A plugin under the name it was configured with (task messages and logs use it)."""

    name: str
    plugin: ImportPlugin

    def run(self, job: ImportJob) -> None:
        self.plugin.run(job)


class ImportPluginFailed(Exception):
    """A plugin raised; the message names the plugin and its error."""

    def __init__(self, name: str, cause: BaseException) -> None:
        detail = str(cause) or type(cause).__name__
        super().__init__(f"Import plugin {name} failed: {detail}")
        self.name = name


class ImportJob:
    """What an import plugin may see and change (see the module docstring).

    ``update`` applies a change to the current image if the import still holds its lock (the
    importer's own lock-checked save); every change a plugin makes is saved at once.
    """

    def __init__(
        self,
        *,
        image_id: str,
        task_id: str,
        method: str,
        stores: Sequence[str],
        context: RequestContext | None,
        staging: StagingArea,
        settings: DomainSettings,
        usage: UsageSource,
        get: Callable[[], Image],
        update: Callable[[Callable[[Image], Image]], Image],
        may: Callable[[str, str], bool] | None = None,
    ) -> None:
        self.image_id = image_id
        self.task_id = task_id
        #: ``glance-direct`` or ``web-download``.
        self.method = method
        #: The stores the data goes to next.
        self.stores = tuple(stores)
        #: Who started the import (None when run without one, e.g. by an embedding program):
        #: ``roles``, ``user_id``, ``project_id``...
        self.context = context
        self._staging = staging
        self._settings = settings
        self._usage = usage
        self._get = get
        self._update = update
        #: ``may(name, operation)``: the property protections of the importing user (None:
        #: no protections configured).
        self._may = may

    # -- the image ----------------------------------------------------------------------------
    @property
    def image(self) -> Image:
        """The image as it is now (a fresh read)."""
        return self._get()

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(self.context.roles) if self.context is not None else ()

    def set_attributes(self, **values: object) -> Image:
        """Set ``disk_format``, ``container_format``, ``size`` and/or ``virtual_size``."""
        unknown = set(values) - SETTABLE_ATTRIBUTES
        if unknown:
            raise AttributeError(f"Setting {', '.join(sorted(unknown))} is not allowed")
        return self._update(lambda image: attrs.evolve(image, **values))  # type: ignore[arg-type]

    def set_properties(self, properties: Mapping[str, str]) -> Image:
        """Merge ``properties`` into the image's extra properties. Names in the reserved
        ``os_glance`` namespace are dropped (with a warning), as in Glance, and so are core
        attributes and the names the API reserves (Glance would store them); with property
        protections the importing user must be allowed to create each new property (update
        one it can read), else ProtectedProperty; more properties than
        ``image_property_quota`` allows is QuotaExceeded (Glance's quota text)."""
        wanted: dict[str, str] = {}
        for key, value in properties.items():
            if key.startswith(RESERVED_PREFIX) or key in _NOT_PROPERTIES:
                LOG.warning("import task %s: dropping %s=%s: reserved property name",
                            self.task_id, key, value)
            else:
                wanted[key] = value
        if not wanted:
            return self.image
        if self._may is not None:
            current = self.image.extra_properties
            for key in wanted:
                readable = key in current and self._may(key, "read")
                if not self._may(key, "update" if readable else "create"):
                    raise ProtectedProperty(key)
                if key in current and not readable:
                    # as the API does: never overwrite a value the user may not read (Glance
                    # treats it as a create and overwrites)
                    raise ProtectedProperty(key)
        quota = self._settings.image_property_quota

        def change(image: Image) -> Image:
            props = {**image.extra_properties, **wanted}
            if quota >= 0 and len(wanted.keys() - image.extra_properties.keys()):
                attempted = sum(1 for k in props if not k.startswith(RESERVED_PREFIX))
                if attempted > quota:
                    raise QuotaExceeded(limit_text("image properties", attempted, quota))
            return attrs.evolve(image, extra_properties=props)

        return self._update(change)

    # -- the staged data ----------------------------------------------------------------------
    def size_limit(self) -> tuple[int, str]:
        """The most bytes the staged data may grow to (``image_size_cap`` or the owner's
        remaining ``user_storage_quota``) and the text a bigger replacement fails with."""
        return data_limit(self._settings, self.image.owner, self._usage)

    def read_staged(self) -> DataStream:
        """The staged data (close the stream when done)."""
        return self._staging.read(self.image_id)

    def staged_path(self) -> str | None:
        """The staged data's local file, when the staging area keeps files (else None)."""
        if isinstance(self._staging, LocalStaging):
            return self._staging.local_path(self.image_id)
        return None

    def replace_staged(self, chunks: Iterable[bytes]) -> int:
        """Replace the staged data with ``chunks`` and record the new size on the image.

        The new data is capped at :meth:`size_limit` while it is written (a decompression
        bomb stops there: SizeLimitExceeded, and the old data stays); returns its size."""
        limit, message = self.size_limit()
        size = self._staging.write(self.image_id, capped(chunks, limit, message),
                                   max_size=limit)
        self.set_attributes(size=size)
        return size
