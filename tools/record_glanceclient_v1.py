"""Record python-glanceclient v1's requests against glance-domain's ``/v1`` (the replay test
is tests/wsgi/test_v1_glanceclient_replay.py).

python-glanceclient lost v1 in 3.0 and the project's venv holds a newer one, so the client
runs from a scratch venv::

    python3 -m venv /tmp/gc1 && /tmp/gc1/bin/pip install 'python-glanceclient<3'
    PYTHONPATH=. .venv/bin/python tools/record_glanceclient_v1.py /tmp/gc1/bin/python

It serves the app (in-memory gateway, ``enable_v1_api``) on 127.0.0.1, runs
``glanceclient_v1_driver.py`` with that Python against it (the driver asserts what the client
got back) and writes every request and its status to
tests/wsgi/recordings/glanceclient_v1.json. Header names are recorded as the WSGI environ has
them (dashes; glanceclient spells ``x-image-meta-disk_format`` with underscores, which
tests/wsgi/test_v1_serve.py sends on the wire).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "wsgi" / "recordings" / "glanceclient_v1.json"
KEPT = ("content-type", "x-glance-registry-purge-props", "x-glance-api-copy-from",
        "x-project-id", "x-roles", "x-user-id", "x-identity-status")


class _Reader:
    def __init__(self, stream: Any, sink: bytearray) -> None:
        self.stream, self.sink = stream, sink

    def read(self, *args: Any) -> bytes:
        data: bytes = self.stream.read(*args)
        self.sink.extend(data)
        return data

    def readline(self, *args: Any) -> bytes:
        data: bytes = self.stream.readline(*args)
        self.sink.extend(data)
        return data


def recording(app: Any, log: list[dict[str, Any]]) -> Any:
    def middleware(environ: dict[str, Any], start_response: Any) -> Any:
        body = bytearray()
        environ["wsgi.input"] = _Reader(environ["wsgi.input"], body)
        entry: dict[str, Any] = {
            "method": environ["REQUEST_METHOD"],
            "path": environ["PATH_INFO"] + (
                "?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else ""),
            "headers": {
                k[5:].lower().replace("_", "-"): v for k, v in environ.items()
                if k.startswith("HTTP_X_IMAGE_META") or (
                    k.startswith("HTTP_") and k[5:].lower().replace("_", "-") in KEPT)},
        }
        if environ.get("CONTENT_TYPE"):
            entry["headers"]["content-type"] = environ["CONTENT_TYPE"]

        def start(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            entry["status"] = int(status.split()[0])
            return start_response(status, headers, *exc)

        result = list(app(environ, start))
        entry["body"] = base64.b64encode(bytes(body)).decode()
        log.append(entry)
        return result
    return middleware


def main(python: str) -> int:
    from tests.wsgi.conftest import build_app
    from tests.wsgi.servers import serve
    from tests.wsgi.v1_support import V1_ON

    log: list[dict[str, Any]] = []
    with serve(recording(build_app(api=V1_ON), log)) as endpoint:
        done = subprocess.run([python, str(ROOT / "tools" / "glanceclient_v1_driver.py"),
                               endpoint], check=False)
    if done.returncode:
        print("the glanceclient v1 driver failed", file=sys.stderr)
        return done.returncode
    OUT.write_text(json.dumps(log, indent=1) + "\n")
    print(f"{len(log)} requests written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
