"""Frozen settings the domain needs, read once at the edge from configuration.

The domain never reads global configuration: the composition root builds a ``DomainSettings``
from oslo.config (or an embedder builds one directly) and hands it to the gateway.
"""

from __future__ import annotations

import attrs

GLANCE_DISK_FORMATS = (
    "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop",
)
GLANCE_CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
#: Interoperable import methods this service implements (Glance 33's default set).
IMPORT_METHODS = ("glance-direct", "web-download", "copy-image")
#: Glance's default ``[glance_download_properties] extra_properties``.
GLANCE_DOWNLOAD_PROPERTIES = ("hw_", "trait:", "os_distro", "os_secure_boot", "os_type")


@attrs.frozen(kw_only=True)
class DomainSettings:
    """Limits and allowed values (Glance option names in comments).

    A quota of -1 means unlimited, as in Glance. Sizes are bytes.
    """

    disk_formats: tuple[str, ...] = GLANCE_DISK_FORMATS  # [image_format] disk_formats
    container_formats: tuple[str, ...] = GLANCE_CONTAINER_FORMATS  # container_formats
    image_size_cap: int = 1099511627776  # [DEFAULT] image_size_cap (1 TiB)
    user_storage_quota: int = 0  # [DEFAULT] user_storage_quota, 0 = unlimited
    image_member_quota: int = 128  # [DEFAULT] image_member_quota
    image_property_quota: int = 128  # [DEFAULT] image_property_quota
    image_tag_quota: int = 128  # [DEFAULT] image_tag_quota
    image_location_quota: int = 10  # [DEFAULT] image_location_quota
    image_count_quota: int = -1  # per-owner image count (Glance: keystone limit image_count_total)
    limit_param_default: int = 25  # [DEFAULT] limit_param_default
    api_limit_max: int = 1000  # [DEFAULT] api_limit_max
    hashing_algorithm: str = "sha512"  # [DEFAULT] hashing_algorithm
    show_image_direct_url: bool = False  # [DEFAULT] show_image_direct_url
    show_multiple_locations: bool = False  # [DEFAULT] show_multiple_locations
    enabled_import_methods: tuple[str, ...] = IMPORT_METHODS  # [DEFAULT] enabled_import_methods
    task_time_to_live: int = 48  # [task] task_time_to_live (hours a finished task is kept)
    delayed_delete: bool = False  # [DEFAULT] delayed_delete (deleted data kept for the scrubber)
    #: [glance_download_properties] extra_properties: prefixes of the remote image's
    #: properties a glance-download import copies.
    glance_download_properties: tuple[str, ...] = GLANCE_DOWNLOAD_PROPERTIES
