"""The Gateway: the ONE place where the layer stack is assembled.

    Authorization -> Policy -> [PropertyProtection] -> Notification -> Quota -> Store -> Repository

Each layer gets exactly its own port. The property protection layer is there only when rules
are given (Glance's ``property_protection_file``); without them it costs nothing. The gateway
lives as long as the application; a ``service(context)`` is built per caller (a few small
objects, no I/O).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from glance_domain.clock import SystemClock
from glance_domain.context import RequestContext
from glance_domain.errors import NotFound
from glance_domain.formats import RawFormatInspector
from glance_domain.importing.executor import ThreadExecutor
from glance_domain.importing.importer import Importer
from glance_domain.importing.memory import MemoryStagingArea, MemoryTaskRepository
from glance_domain.importing.plugins import ImportPlugin
from glance_domain.layers.authorization import AuthorizationLayer
from glance_domain.layers.base import Layer
from glance_domain.layers.cache import CacheLayer, cache_key, data_fingerprint, is_current
from glance_domain.layers.notification import NotificationLayer
from glance_domain.layers.policy import PolicyLayer
from glance_domain.layers.protection import PropertyProtectionLayer
from glance_domain.layers.quota import QuotaLayer
from glance_domain.layers.repository import RepositoryLayer
from glance_domain.layers.signature import SignatureLayer
from glance_domain.layers.store import StoreLayer
from glance_domain.metadefs.memory import MemoryMetadefRepository
from glance_domain.metadefs.ports import MetadefRepository
from glance_domain.metadefs.service import MetadefService
from glance_domain.model.factory import ImageFactory
from glance_domain.policy import DefaultPolicy
from glance_domain.ports import (
    Clock,
    DataStream,
    FormatInspector,
    ImageCache,
    ImageRepository,
    ImageSignatures,
    Notifier,
    PolicyEnforcer,
    RemoteImages,
    StagingArea,
    StoreRegistry,
    TaskExecutor,
    TaskRepository,
    UriFetcher,
)
from glance_domain.protections import PropertyProtections
from glance_domain.service import ImageService
from glance_domain.settings import DomainSettings

LOG = logging.getLogger(__name__)


def _check_policy_knows(policy: PolicyEnforcer, protections: PropertyProtections) -> None:
    """With the policies format, refuse a :class:`DefaultPolicy` that lacks the rules'
    ``<section>:<operation>`` names: it allows every rule it does not know, so each protected
    operation would be open to everybody. (Other enforcers cannot be asked; oslo.policy's gets
    the rules from the composition root.)"""
    if not isinstance(policy, DefaultPolicy) or type(policy).check is not DefaultPolicy.check:
        return  # a subclass deciding rules itself answers for them
    missing = sorted(name for name in protections.policy_rules() if not policy.defines(name))
    if missing:
        raise ValueError(
            "property protections in the policies format need a policy that defines "
            f"{', '.join(repr(n) for n in missing)} (DefaultPolicy(overrides=...))")


class Gateway:
    """Holds the ports and settings; hands out an ``ImageService`` per request context."""

    def __init__(
        self,
        *,
        repository: ImageRepository,
        stores: StoreRegistry,
        policy: PolicyEnforcer,
        notifier: Notifier,
        settings: DomainSettings,
        clock: Clock | None = None,
        tasks: TaskRepository | None = None,
        staging: StagingArea | None = None,
        executor: TaskExecutor | None = None,
        fetcher: UriFetcher | None = None,
        format_inspector: FormatInspector | None = None,
        metadefs: MetadefRepository | None = None,
        property_protections: PropertyProtections | None = None,
        cache: ImageCache | None = None,
        serve_from_cache: bool = True,
        import_plugins: Sequence[ImportPlugin] = (),
        signatures: ImageSignatures | None = None,
        remote_images: RemoteImages | None = None,
    ) -> None:
        """``tasks``/``staging``/``executor`` default to in-memory ones and a small thread
        pool; without a ``fetcher`` the web-download method refuses every URL; ``metadefs``
        (metadata definitions) defaults to an in-memory repository; ``signatures`` verifies
        the data of signed images (``img_signature*`` properties) on upload and import (none:
        signature properties are plain properties); ``remote_images`` reads other regions'
        Glance for the glance-download import method (none: that method fails);
        ``property_protections`` restricts who may create, read, update and delete which
        extra properties (none: no restriction). With the policies format, ``policy`` must
        know the rules' ``<section>:<operation>`` names. With a ``cache`` (Glance's image cache) a
        ``CacheLayer`` sits above the store layer: downloads are served from and copied into
        it (unless ``serve_from_cache`` is false) and deleted images are evicted.
        ``import_plugins`` run in order on glance-direct and web-download imports
        (``glance_domain.importing.plugins``; none by default, as in Glance)."""
        self.repository = repository
        self.stores = stores
        self.policy = policy
        self.notifier = notifier
        self.settings = settings
        self.property_protections = property_protections
        self.signatures = signatures
        if property_protections is not None:
            _check_policy_knows(policy, property_protections)
        self.clock: Clock = clock or SystemClock()
        self.factory = ImageFactory(settings, self.clock)
        #: Checks uploaded/imported data against disk_format and computes virtual_size
        #: (default: raw-only, ``glance_domain.formats``).
        self.format_inspector: FormatInspector = format_inspector or RawFormatInspector()
        self.metadefs: MetadefRepository = (
            metadefs if metadefs is not None else MemoryMetadefRepository())
        self.staging: StagingArea = staging if staging is not None else MemoryStagingArea()
        self.importer = Importer(
            repository=repository,
            stores=stores,
            staging=self.staging,
            tasks=tasks if tasks is not None else MemoryTaskRepository(self.clock),
            executor=executor if executor is not None else ThreadExecutor(),
            settings=settings,
            clock=self.clock,
            fetcher=fetcher,
            inspector=self.format_inspector,
            notifier=notifier,
            plugins=import_plugins,
            signatures=signatures,
            remote_images=remote_images,
            property_check=(
                None if property_protections is None else
                lambda context, name, operation: property_protections.allows(
                    context, name, operation, policy)),
        )
        # The two bottom layers hold no per-request state: build them once.
        self._store_layer: Layer = StoreLayer(
            RepositoryLayer(repository), stores, self.staging, self.format_inspector,
            delayed_delete=self.settings.delayed_delete,
        )
        self.cache = cache
        self._bottom: Layer = self._store_layer
        if cache is not None:
            self._bottom = CacheLayer(self._store_layer, cache, serve=serve_from_cache)

    def stack(self, context: RequestContext) -> Layer:
        """The layered operations for one caller, top (authorization) to bottom."""
        layer: Layer = self._bottom
        if self.signatures is not None:
            layer = SignatureLayer(layer, context, self.signatures)
        layer = QuotaLayer(layer, context, self.settings, self.repository.usage)
        layer = NotificationLayer(layer, context, self.notifier, self.clock)
        if self.property_protections is not None:
            layer = PropertyProtectionLayer(layer, context, self.property_protections,
                                            self.policy)
        layer = PolicyLayer(layer, context, self.policy)
        return AuthorizationLayer(layer, context)

    def service(self, context: RequestContext) -> ImageService:
        """The ImageService for ``context``."""
        return ImageService(
            context=context,
            stack=self.stack(context),
            factory=self.factory,
            settings=self.settings,
            stores=self.stores,
            repository=self.repository,
            importer=self.importer,
            property_checks=self.property_protections is not None,
        )

    def prefetch(self, image_id: str) -> bool:
        """Copy an image's data into the cache (Glance's prefetcher, acting for the service
        itself, not for a caller); True when it is cached afterwards. False, and nothing
        cached, for an unknown or deleted image, one that is not ``active`` or has no data,
        or when the data cannot be read or does not match its checksum."""
        cache = self.cache
        if cache is None:
            return False
        try:
            image = self.repository.get(image_id)
        except NotFound:
            LOG.warning("image cache: image %s not found, not caching it", image_id)
            return False
        key = cache_key(image)
        if key is None:
            LOG.warning("image cache: image %s is not active (or has no data), not caching it",
                        image_id)
            return False
        if cache.contains(key):
            return True
        source = self._store_layer.download(image, 0, None)
        if source is None:
            return False
        plain = DataStream(chunks=source, length=source.length)  # no file: read it through
        stream = cache.fill(key, plain, inline=True,
                            still_current=lambda: is_current(key, self.repository.get))
        if stream.chunks is source:  # not filling (being copied elsewhere): read nothing
            stream.close()
            return cache.contains(key)
        try:
            for _chunk in stream:
                pass
        except Exception:
            LOG.warning("image cache: cannot read image %s from its store", image_id,
                        exc_info=True)
            return False
        finally:
            stream.close()
        return cache.contains(key)

    def cached_copy_is_stale(self, image_id: str, fingerprint: str) -> bool:
        """Whether a cached copy made with ``fingerprint`` no longer belongs to its image:
        the image is deleted, or its data or locations changed (``glance-domain cache
        clean``)."""
        try:
            image = self.repository.get(image_id)
        except NotFound:
            return True
        return data_fingerprint(image) != fingerprint

    def metadef_service(self, context: RequestContext) -> MetadefService:
        """The metadata-definitions operations for ``context``."""
        return MetadefService(
            context=context, repository=self.metadefs, policy=self.policy,
            notifier=self.notifier, clock=self.clock,
        )
