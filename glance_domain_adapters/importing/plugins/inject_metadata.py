"""``inject_image_metadata``: sets the operator's properties on every imported image.

``[inject_metadata_properties] inject`` (a dict) is merged into the image's extra properties,
unless the user who started the import holds one of ``ignore_user_roles`` (default: admin).
As in Glance, the importing user's property protections apply to these properties (the import
fails if it may not create one, or would overwrite one it cannot read); names in the reserved
``os_glance`` namespace, core attributes and the names the API reserves (``direct_url``,
``locations``...) are dropped with a warning; ``image_property_quota`` still applies (the import
fails if the injection would exceed it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from oslo_config import cfg

from glance_domain.importing.plugins import ImportJob


class InjectImageMetadata:
    """Merges ``properties`` into the image unless the importer has an ``ignored_roles``
    role."""

    def __init__(self, properties: Mapping[str, str], ignored_roles: Iterable[str] = ("admin",)
                 ) -> None:
        self.properties = dict(properties)
        self.ignored_roles = frozenset(ignored_roles)

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts) -> InjectImageMetadata:
        group = conf.inject_metadata_properties
        return cls(group.inject or {}, group.ignore_user_roles or ())

    def run(self, job: ImportJob) -> None:
        if not self.properties or self.ignored_roles.intersection(job.roles):
            return
        job.set_properties(self.properties)
