"""JSON request bodies are bounded (review P1.9): past ``ApiSettings.max_json_body_size`` the
API answers 413 without buffering the body, whether the client declares its length or not."""

from __future__ import annotations

import io
import json

import webob

from glance_domain.settings import DomainSettings
from glance_domain_adapters.wsgi.app import DRAIN_BUDGET
from glance_domain_adapters.wsgi.settings import ApiSettings

from .conftest import ALICE, build_app


class EndlessBody(io.RawIOBase):
    """A chunked request body that never ends, counting what the app read of it."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        buffer[:] = b" " * len(buffer)
        self.served += len(buffer)
        return len(buffer)


def _post(app: object, body: bytes | None = None, stream: io.RawIOBase | None = None
          ) -> webob.Response:
    req = webob.Request.blank("/v2/images", method="POST", headers=ALICE)
    req.content_type = "application/json"
    if body is not None:
        req.body = body
    else:
        req.environ["wsgi.input"] = stream
        req.environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        req.environ.pop("CONTENT_LENGTH", None)
    return req.get_response(app)


def test_an_oversized_json_body_is_413() -> None:
    app = build_app(DomainSettings(), ApiSettings(max_json_body_size=1000))
    ok = _post(app, json.dumps({"name": "x" * 200}).encode())
    assert ok.status_int == 201, ok.text
    big = _post(app, json.dumps({"name": "x", "p": "y" * 2000}).encode())
    assert big.status_int == 413, big.text
    assert "Request Entity Too Large" in big.text


def test_an_endless_chunked_json_body_is_cut_at_the_limit() -> None:
    app = build_app(DomainSettings(), ApiSettings(max_json_body_size=1 << 16))
    body = EndlessBody()
    resp = _post(app, stream=body)
    assert resp.status_int == 413, resp.text
    # read up to the limit, plus the bounded drain that keeps keep-alive in sync; not forever
    assert body.served <= (1 << 16) + 1 + DRAIN_BUDGET


def test_the_default_limit_is_one_mib() -> None:
    assert ApiSettings().max_json_body_size == 1 << 20
