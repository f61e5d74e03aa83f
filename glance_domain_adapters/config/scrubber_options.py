"""Options of delayed delete and the scrubber, with Glance's names and defaults ([DEFAULT])."""

from __future__ import annotations

from oslo_config import cfg

scrubber_opts: list[cfg.Opt] = [
    cfg.BoolOpt(
        "delayed_delete", default=False,
        help="Delete an image's data later instead of at once: a deleted image that has data "
        "goes to 'pending_delete' (hidden from the API like a deleted one) and keeps its data "
        "until 'glance-domain scrubber' deletes it, scrub_time seconds later; until then "
        "'glance-domain scrubber --restore ID' brings it back.",
    ),
    cfg.IntOpt(
        "scrub_time", default=0, min=0,
        help="Seconds a pending_delete image's data is kept before the scrubber deletes it.",
    ),
    cfg.IntOpt(
        "scrub_pool_size", default=1, min=1,
        help="Images the scrubber deletes the data of in parallel.",
    ),
    cfg.IntOpt(
        "wakeup_time", default=300, min=0,
        help="Seconds between two runs of 'glance-domain scrubber --daemon'.",
    ),
]
