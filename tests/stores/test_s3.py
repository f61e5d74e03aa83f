"""The s3 driver against moto_server on 127.0.0.1."""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any

import pytest

from glance_store_plugins import (
    BackendError,
    ConfigError,
    Duplicate,
    Store,
    StoreError,
    build_registry,
)
from glance_store_plugins.drivers.s3 import S3Store
from glance_store_plugins.testing import StoreContract

ACCESS = "AKIDGLANCETEST0001"
SECRET = "wJalrXUtnFEMI-very-secret-key-0001"


def _options(endpoint: str, **extra: Any) -> dict[str, Any]:
    return {
        "s3_store_host": endpoint,
        "s3_store_access_key": ACCESS,
        "s3_store_secret_key": SECRET,
        "s3_store_bucket": f"glance-{uuid.uuid4().hex[:12]}",
        "s3_store_create_bucket_on_put": True,
        "s3_store_large_object_size": 5,
        "s3_store_large_object_chunk_size": 5,
        "s3_store_chunk_size": 256 * 1024,
        **extra,
    }


class TestS3Store(StoreContract):
    @pytest.fixture
    def store(self, moto_endpoint: str) -> Store:
        return S3Store(_options(moto_endpoint), backend="objects")

    def backend_objects(self, store: Store) -> set[str]:
        """Keys of the bucket and unfinished multipart uploads, as S3 lists them."""
        client, bucket = store._client, store.bucket  # type: ignore[attr-defined]
        try:
            keys = {o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])}
        except client.exceptions.NoSuchBucket:
            return set()
        uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return keys | {f"upload:{u['Key']}:{u['UploadId']}" for u in uploads}

    def leftovers(self, store: Store) -> list[str]:
        return sorted(o for o in self.backend_objects(store) if o.startswith("upload:"))


def test_large_image_uses_multipart(moto_endpoint: str) -> None:
    store = S3Store(_options(moto_endpoint), backend="objects")
    data = os.urandom(12 * 1024 * 1024 + 7)
    result = store.write("big", (data[i:i + 999_999] for i in range(0, len(data), 999_999)))
    head = store._client.head_object(Bucket=store.bucket, Key="big")
    assert head["ETag"].strip('"').endswith("-3")  # three parts: 5 + 5 + 2 MiB
    assert result.size == len(data)
    assert store.read(result.url, offset=6 << 20, length=10).read_all() == data[6 << 20:][:10]


def test_small_image_is_a_single_put(moto_endpoint: str) -> None:
    store = S3Store(_options(moto_endpoint), backend="objects")
    result = store.write("small", iter([b"x" * 1000]))
    head = store._client.head_object(Bucket=store.bucket, Key="small")
    assert "-" not in head["ETag"]
    assert result.url == f"s3+http://{moto_endpoint.split('//')[1]}/{store.bucket}/small"


def test_missing_bucket_without_create_option(moto_endpoint: str) -> None:
    store = S3Store(
        _options(moto_endpoint, s3_store_create_bucket_on_put=False), backend="objects"
    )
    with pytest.raises(BackendError, match=r"does not exist.*s3_store_create_bucket_on_put"):
        store.write("img", iter([b"x"]))


def test_credentials_never_leak(moto_endpoint: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    registry = build_registry(
        {"objects": ("s3", _options(moto_endpoint)), "bad": ("s3", {
            **_options("http://127.0.0.1:9"), "s3_store_create_bucket_on_put": False})},
        "objects",
    )
    result = registry.write("img", iter([b"payload"]))
    shown: list[str] = [result.url, repr(result), registry.get("objects").redact(result.url)]
    for action in (
        lambda: registry.write("img", iter([b"again"])),  # Duplicate
        lambda: registry.read(result.url + "-missing"),  # NotFound
        lambda: registry.write("img", iter([b"x"]), backend="bad"),  # connection refused
        lambda: registry.read(result.url.replace("/img", "/img-x").replace(
            "s3+http://", f"s3+http://{ACCESS}:{SECRET}@")),  # credentials in a given URL
    ):
        with pytest.raises(StoreError) as caught:
            action()
        shown += [str(caught.value), repr(caught.value)]
        cause = caught.value.__cause__
        shown.append(str(cause) if cause is not None else "")
    with pytest.raises(ConfigError) as bad_value:
        S3Store({**_options(moto_endpoint), "s3_store_secret_key": ["not", "a", "string"]})
    shown.append(str(bad_value.value))
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("glance_store_plugins")]
    everything = [r.getMessage() for r in caplog.records]
    for text in shown + ours:
        assert SECRET not in text and ACCESS not in text, text
    for text in everything:  # botocore's own debug logs: the secret key is never sent
        assert SECRET not in text, text


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"s3_store_large_object_chunk_size": 1}, "at least 5"),
        ({"s3_store_bucket_url_format": "sideways"}, "auto, path or virtual"),
        ({"s3_store_host": "ftp://x"}, "not a host"),
        ({"s3_store_bucket": None}, "s3_store_bucket is required"),
    ],
)
def test_bad_options_fail_loudly(override: dict[str, Any], message: str) -> None:
    options = {**_options("http://127.0.0.1:9"), **override}
    with pytest.raises(ConfigError, match=message):
        S3Store(options, backend="objects")


def test_server_without_conditional_writes_still_takes_uploads(moto_endpoint: str) -> None:
    """A server answering 501 NotImplemented to If-None-Match (older S3-compatible servers)
    gets unconditional writes from then on, small and multipart."""
    from botocore.awsrequest import AWSResponse

    store = S3Store(_options(moto_endpoint), backend="objects")
    refused: list[str] = []

    def no_conditions(request: Any, **_: Any) -> AWSResponse | None:
        if "If-None-Match" not in request.headers:
            return None
        refused.append(request.method)
        body = (b"<Error><Code>NotImplemented</Code><Message>A header you provided implies "
                b"functionality that is not implemented</Message></Error>")
        raw = _Raw(body)
        return AWSResponse(request.url, 501, {"Content-Type": "application/xml"}, raw)

    store._client.meta.events.register("before-send.s3.PutObject", no_conditions)
    store._client.meta.events.register("before-send.s3.CompleteMultipartUpload", no_conditions)
    small = store.write("small-ok", iter([b"abc"]))
    assert store.read(small.url).read_all() == b"abc"
    assert refused == ["PUT"]
    data = os.urandom(6 * 1024 * 1024)
    big = store.write("big-ok", iter([data]))
    assert store.read(big.url).read_all() == data
    assert refused == ["PUT"]  # not asked again
    with pytest.raises(Duplicate):
        store.write("small-ok", iter([b"again"]))


class _Raw:
    """A raw HTTP body for a botocore response built in a test."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any) -> bytes:
        body, self._body = self._body, b""
        return body
