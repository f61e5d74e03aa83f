"""``sha256_property``: records the SHA-256 of the imported data as an image property."""

from __future__ import annotations

import hashlib

from oslo_config import cfg

from glance_domain.importing import ImportJob

OPTIONS = [
    cfg.StrOpt("property_name", default="sha256",
               help="Name of the image property that receives the SHA-256 of the data."),
]


class Sha256Property:
    """Hashes the staged data and stores the digest in one image property."""

    def __init__(self, property_name: str = "sha256") -> None:
        self.property_name = property_name

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts) -> Sha256Property:
        conf.register_opts(OPTIONS, group="sha256_property")
        return cls(conf.sha256_property.property_name)

    def run(self, job: ImportJob) -> None:
        digest = hashlib.sha256()
        stream = job.read_staged()
        try:
            for chunk in stream:
                digest.update(chunk)
        finally:
            stream.close()
        job.set_properties({self.property_name: digest.hexdigest()})
