"""glance_store_plugins: where image bytes live.

A small driver API (:class:`Store`) whose template methods do capability checks, one-pass md5 +
multihash hashing and size limits; drivers loaded from the ``glance_store_plugins.drivers`` entry
point namespace; and a :class:`Registry` of named backends. See docs/plugins.md.
"""

from glance_store_plugins.base import COMMON_OPTIONS, Store
from glance_store_plugins.capabilities import Capability
from glance_store_plugins.errors import (
    BackendError,
    CapabilityError,
    ConfigError,
    Duplicate,
    InUse,
    InvalidInput,
    InvalidLocation,
    InvalidRange,
    NotFound,
    PluginLoadError,
    SizeLimitExceeded,
    StoreError,
    UnknownBackend,
)
from glance_store_plugins.hashing import HashingChunks
from glance_store_plugins.options import Option
from glance_store_plugins.registry import (
    NAMESPACE,
    Registry,
    available_drivers,
    build_registry,
    build_store,
    driver_options,
    load_driver,
)
from glance_store_plugins.results import ClosingChunks, ReadStream, WriteResult

__all__ = [
    "COMMON_OPTIONS",
    "NAMESPACE",
    "BackendError",
    "Capability",
    "CapabilityError",
    "ConfigError",
    "Duplicate",
    "HashingChunks",
    "InUse",
    "InvalidInput",
    "InvalidLocation",
    "InvalidRange",
    "NotFound",
    "Option",
    "PluginLoadError",
    "ClosingChunks",
    "ReadStream",
    "Registry",
    "SizeLimitExceeded",
    "Store",
    "StoreError",
    "UnknownBackend",
    "WriteResult",
    "available_drivers",
    "build_registry",
    "build_store",
    "driver_options",
    "load_driver",
]
