"""``no_op``: logs that it ran and changes nothing (to check that plugins are wired)."""

from __future__ import annotations

import logging

from glance_domain.importing.plugins import ImportJob

LOG = logging.getLogger(__name__)


class NoOp:
    """Does nothing but log at debug level."""

    def run(self, job: ImportJob) -> None:
        LOG.debug("no_op import plugin ran for image %s (task %s)", job.image_id, job.task_id)
