"""Metadata definitions (Glance's "metadefs"): namespaces of property definitions, objects,
tags and resource-type associations that tell clients which image/flavor/volume properties
exist. Records in ``model``, the ``MetadefRepository`` port in ``ports``, operations in
``service.MetadefService``, an in-memory repository in ``memory``."""

from glance_domain.metadefs.memory import MemoryMetadefRepository
from glance_domain.metadefs.model import (
    MetadefObject,
    MetadefTag,
    Namespace,
    NamespaceContents,
    NamespaceDetail,
    NamespaceQuery,
    PageQuery,
    PropertyDefinition,
    ResourceType,
    ResourceTypeAssociation,
    normalize_property,
)
from glance_domain.metadefs.ports import MetadefRepository
from glance_domain.metadefs.service import MetadefService

__all__ = [
    "MemoryMetadefRepository", "MetadefObject", "MetadefRepository", "MetadefService",
    "MetadefTag", "Namespace", "NamespaceContents", "NamespaceDetail", "NamespaceQuery",
    "PageQuery", "PropertyDefinition", "ResourceType", "ResourceTypeAssociation",
    "normalize_property",
]
