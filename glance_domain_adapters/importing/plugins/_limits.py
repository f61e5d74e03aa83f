"""Run a command under CPU-time and address-space limits (``qemu-img info`` on untrusted
data, as Glance does with oslo.concurrency's prlimit wrapper):

    python -m glance_domain_adapters.importing.plugins._limits CPU_SECONDS AS_BYTES -- CMD...

The limits are set in this short-lived process, which then becomes the command, so the
caller's threads are never involved (``preexec_fn`` is unsafe in threaded programs).
"""

from __future__ import annotations

import os
import resource
import sys


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print(f"usage: {__doc__}", file=sys.stderr)
        return 2
    cpu, address_space = int(argv[0]), int(argv[1])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    os.execvp(argv[3], argv[3:])
    return 127  # pragma: no cover - execvp does not return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
