"""Run a command under CPU-time and address-space limits (``qemu-img info`` on untrusted
data, as Glance does with oslo.concurrency's prlimit wrapper):

    python -m glance_domain_adapters.importing.plugins._limits CPU AS [FSIZE] -- CMD...

(CPU seconds, address-space and file-size bytes.)
A limit of 0 means none (``qemu-img convert`` runs with only a file-size limit).

The limits are set in this short-lived process, which then becomes the command, so the
caller's threads are never involved (``preexec_fn`` is unsafe in threaded programs).
"""

from __future__ import annotations

import os
import resource
import sys


def main(argv: list[str]) -> int:
    if "--" not in argv or argv.index("--") not in (2, 3) or argv.index("--") == len(argv) - 1:
        print(f"usage: {__doc__}", file=sys.stderr)
        return 2
    split = argv.index("--")
    limits = [int(v) for v in argv[:split]]
    for kind, value in zip((resource.RLIMIT_CPU, resource.RLIMIT_AS, resource.RLIMIT_FSIZE),
                           limits, strict=False):
        if value > 0:
            resource.setrlimit(kind, (value, value))
    os.execvp(argv[split + 1], argv[split + 1:])
    return 127  # pragma: no cover - execvp does not return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
