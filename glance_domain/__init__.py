"""glance_domain: the pure-Python core of an image service speaking Glance's v2 model.

No framework is imported here: HTTP, SQL, configuration and plugins live in
``glance_domain_adapters`` and ``glance_store_plugins``. Start with :class:`Gateway` and
:meth:`Gateway.service`; ``docs/embedding.md`` shows a complete in-process example.
"""

from glance_domain.changes import Change, ImageDiff, apply_changes, diff
from glance_domain.clock import SystemClock
from glance_domain.context import RequestContext
from glance_domain.errors import (
    Conflict,
    DomainError,
    Duplicate,
    Forbidden,
    InvalidImageData,
    InvalidInput,
    InvalidStatusTransition,
    NotFound,
    PolicyDenied,
    ProtectedProperty,
    QuotaExceeded,
    RangeNotSatisfiable,
    ReadOnlyAttribute,
    ReservedAttribute,
    ServiceUnavailable,
    SizeLimitExceeded,
    StoreUnavailable,
)
from glance_domain.formats import RawFormatInspector
from glance_domain.gateway import Gateway
from glance_domain.memory import MemoryImageRepository, MemoryStoreRegistry
from glance_domain.model.factory import ImageFactory
from glance_domain.model.image import Image
from glance_domain.model.location import Location
from glance_domain.model.member import Member
from glance_domain.model.status import TRANSITIONS
from glance_domain.notifications import NullNotifier, RecordingNotifier
from glance_domain.policy import DefaultPolicy
from glance_domain.ports import (
    BackendInfo,
    Clock,
    DataStream,
    FormatInspector,
    ImageRepository,
    InspectedData,
    Notifier,
    PolicyEnforcer,
    StoredData,
    StoreRegistry,
    Usage,
)
from glance_domain.protections import InvalidPropertyRules, PropertyProtections
from glance_domain.query import Filter, ImageQuery, ListScope, ScopeClause, SortKey
from glance_domain.service import ImageDownload, ImageService
from glance_domain.settings import DomainSettings
from glance_domain.visibility import can_see, is_admin_or_owner, list_scope

__all__ = [
    # entry points
    "Gateway",
    "ImageService",
    "RequestContext",
    "DomainSettings",
    # entities and values
    "Image",
    "Member",
    "Location",
    "ImageDownload",
    "Change",
    "ImageDiff",
    "ImageQuery",
    "Filter",
    "SortKey",
    "ListScope",
    "ScopeClause",
    "TRANSITIONS",
    "ImageFactory",
    "PropertyProtections",
    # rules
    "apply_changes",
    "diff",
    "can_see",
    "is_admin_or_owner",
    "list_scope",
    # ports
    "ImageRepository",
    "StoreRegistry",
    "PolicyEnforcer",
    "Notifier",
    "Clock",
    "StoredData",
    "DataStream",
    "BackendInfo",
    "Usage",
    "FormatInspector",
    "InspectedData",
    # embedding kit
    "MemoryImageRepository",
    "MemoryStoreRegistry",
    "DefaultPolicy",
    "NullNotifier",
    "RecordingNotifier",
    "SystemClock",
    "RawFormatInspector",
    # errors
    "DomainError",
    "NotFound",
    "Forbidden",
    "PolicyDenied",
    "ReadOnlyAttribute",
    "ReservedAttribute",
    "ProtectedProperty",
    "InvalidPropertyRules",
    "InvalidInput",
    "InvalidImageData",
    "Conflict",
    "Duplicate",
    "InvalidStatusTransition",
    "QuotaExceeded",
    "SizeLimitExceeded",
    "RangeNotSatisfiable",
    "StoreUnavailable",
    "ServiceUnavailable",
]
