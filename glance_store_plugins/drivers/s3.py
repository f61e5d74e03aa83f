"""``s3`` driver: image data as objects in an S3 bucket (boto3; install the ``s3`` extra).

Options (glance_store names and meanings):

``s3_store_host``
    The S3 endpoint, e.g. ``s3.amazonaws.com`` or ``http://127.0.0.1:9000`` (required).
``s3_store_access_key`` / ``s3_store_secret_key``
    Credentials (required). They never appear in locations, messages or our logs.
``s3_store_bucket``
    The bucket holding images (required).
``s3_store_create_bucket_on_put``
    Create the bucket on the first write if it does not exist (default false).
``s3_store_large_object_size``
    Images of this many MiB or more use a multipart upload (default 100).
``s3_store_large_object_chunk_size``
    Multipart part size in MiB (default 10; S3 needs at least 5).
``s3_store_region_name``
    The region (default: boto3's default / ``us-east-1``).
``s3_store_bucket_url_format``
    ``auto``, ``path`` or ``virtual`` addressing (default ``auto``).
``s3_store_cacert``
    CA bundle for a private endpoint (default: system bundle).

Locations are ``s3://<host>/<bucket>/<image_id>`` (``s3+http://`` for a plain-HTTP endpoint),
without the credentials glance_store embeds. Memory use is bounded by the large-object size: a
smaller image is buffered and sent in one request, a larger one streamed as parts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from glance_store_plugins import location as loc
from glance_store_plugins.base import Store
from glance_store_plugins.capabilities import Capability
from glance_store_plugins.errors import (
    BackendError,
    ConfigError,
    Duplicate,
    InvalidLocation,
    NotFound,
)
from glance_store_plugins.hashing import HashingChunks
from glance_store_plugins.options import Option

MiB = 1 << 20
_SESSION_LOCK = threading.Lock()
_SESSIONS: list[Any] = []
MIN_PART = 5 * MiB
_MISSING = {"404", "NoSuchKey", "NoSuchBucket", "NotFound"}


class S3Store(Store):
    """Stores images as objects in one S3 bucket."""

    driver_name = "s3"
    schemes = ("s3", "s3+http", "s3+https")
    capabilities = Capability.READ_WRITE
    options = {
        opt.name: opt
        for opt in (
            Option(name="s3_store_host", required=True, help="S3 endpoint (host or URL)."),
            Option(name="s3_store_access_key", required=True, secret=True, help="Access key."),
            Option(name="s3_store_secret_key", required=True, secret=True, help="Secret key."),
            Option(name="s3_store_bucket", required=True, help="Bucket holding images."),
            Option(name="s3_store_create_bucket_on_put", type=bool, default=False,
                   help="Create the bucket on first write if missing."),
            Option(name="s3_store_large_object_size", type=int, default=100,
                   help="Size in MiB from which multipart upload is used."),
            Option(name="s3_store_large_object_chunk_size", type=int, default=10,
                   help="Multipart part size in MiB (>= 5)."),
            Option(name="s3_store_region_name", default="", help="Region name."),
            Option(name="s3_store_bucket_url_format", default="auto",
                   help="Addressing style: auto, path or virtual."),
            Option(name="s3_store_cacert", help="CA bundle for the endpoint."),
            Option(name="s3_store_chunk_size", type=int, default=MiB,
                   help="Read chunk size in bytes."),
        )
    }

    def _configure(self, conf: Mapping[str, Any]) -> None:
        where = f"store backend {self.backend!r}"
        try:
            import boto3
            import botocore.config
        except ImportError:
            raise ConfigError(f"{where}: the s3 driver needs boto3 (pip install boto3)") from None
        host = conf["s3_store_host"].strip()
        endpoint = host if "://" in host else f"https://{host}"
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{where}: s3_store_host {host!r} is not a host or http(s) URL")
        self._netloc = parts.netloc.rpartition("@")[2]
        self._scheme = "s3+http" if parts.scheme == "http" else "s3"
        self.bucket = conf["s3_store_bucket"]
        self._large = conf["s3_store_large_object_size"] * MiB
        self._part = conf["s3_store_large_object_chunk_size"] * MiB
        if self._part < MIN_PART:
            raise ConfigError(f"{where}: s3_store_large_object_chunk_size must be at least 5")
        if self._large < 0:
            raise ConfigError(f"{where}: s3_store_large_object_size must not be negative")
        style = conf["s3_store_bucket_url_format"]
        if style not in ("auto", "path", "virtual"):
            raise ConfigError(f"{where}: s3_store_bucket_url_format must be auto, path or virtual")
        self._create_bucket = conf["s3_store_create_bucket_on_put"]
        self.read_chunk_size = conf["s3_store_chunk_size"]
        with _SESSION_LOCK:  # one session: botocore loads its service models only once
            self._client = _session(boto3).client(
            "s3",
                endpoint_url=f"{parts.scheme}://{self._netloc}",
                aws_access_key_id=conf["s3_store_access_key"],
                aws_secret_access_key=conf["s3_store_secret_key"],
                region_name=conf["s3_store_region_name"] or "us-east-1",
                verify=conf["s3_store_cacert"] or (parts.scheme == "https"),
                config=botocore.config.Config(
                    s3={"addressing_style": style},
                    retries={"max_attempts": 3},
                    connect_timeout=10,
                    read_timeout=60,
                ),
            )
        from botocore.exceptions import ClientError

        self._client_error = ClientError

    # -- locations ----------------------------------------------------------------------------
    def owns(self, location: str) -> bool:
        try:
            parts = loc.split(location)
        except InvalidLocation:
            return False
        return (
            parts.scheme in self.schemes
            and parts.netloc.rpartition("@")[2] == self._netloc
            and len(parts.path.strip("/").split("/", 1)) == 2
        )

    def _bucket_key(self, location: str) -> tuple[str, str]:
        bucket, _, key = loc.split(location).path.lstrip("/").partition("/")
        if not bucket or not key:
            raise InvalidLocation(f"{self.redact(location)} names no bucket and key")
        return bucket, key

    def location_for(self, key: str) -> str:
        return f"{self._scheme}://{self._netloc}/{self.bucket}/{key}"

    def _code(self, exc: Exception) -> str:
        if isinstance(exc, self._client_error):
            return str(exc.response.get("Error", {}).get("Code", ""))
        return ""

    # -- raw operations -----------------------------------------------------------------------
    def _exists(self, bucket: str, key: str) -> bool:
        try:
            self._client.head_object(Bucket=bucket, Key=key)
        except self._client_error as exc:
            if self._code(exc) in _MISSING:
                return False
            raise
        return True

    def _ensure_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except self._client_error as exc:
            if self._code(exc) not in _MISSING:
                raise
        if not self._create_bucket:
            raise BackendError(
                f"store backend {self.backend!r}: bucket {self.bucket!r} does not exist "
                "(set s3_store_create_bucket_on_put to create it)"
            )
        try:
            self._client.create_bucket(Bucket=self.bucket)
        except self._client_error as exc:
            if self._code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    def _write(self, image_id: str, chunks: HashingChunks) -> str:
        self._ensure_bucket()
        if self._exists(self.bucket, image_id):
            raise Duplicate(f"data for image {image_id} already exists in {self.backend!r}")
        buffer = bytearray()
        for chunk in chunks:
            buffer += chunk
            if len(buffer) >= max(self._large, MIN_PART):
                self._multipart(image_id, buffer, chunks)
                return self.location_for(image_id)
        self._client.put_object(Bucket=self.bucket, Key=image_id, Body=bytes(buffer))
        return self.location_for(image_id)

    def _multipart(self, key: str, buffer: bytearray, rest: Iterator[bytes]) -> None:
        upload = self._client.create_multipart_upload(Bucket=self.bucket, Key=key)
        upload_id = upload["UploadId"]
        parts: list[dict[str, Any]] = []

        def send(data: bytes) -> None:
            number = len(parts) + 1
            answer = self._client.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
            )
            parts.append({"PartNumber": number, "ETag": answer["ETag"]})

        try:
            while True:
                while len(buffer) >= self._part:
                    send(bytes(buffer[: self._part]))
                    del buffer[: self._part]
                chunk = next(rest, None)
                if chunk is None:
                    break
                buffer += chunk
            if buffer or not parts:
                send(bytes(buffer))
            self._client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            try:
                self._client.abort_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id
                )
            except Exception:  # the original error matters more
                pass
            raise

    def _size(self, location: str) -> int:
        bucket, key = self._bucket_key(location)
        try:
            head = self._client.head_object(Bucket=bucket, Key=key)
        except self._client_error as exc:
            if self._code(exc) in _MISSING:
                raise NotFound(f"no data at {self.redact(location)}") from None
            raise
        return int(head["ContentLength"])

    def _read(self, location: str, offset: int, length: int) -> Iterator[bytes]:
        if length == 0:
            return iter(())
        bucket, key = self._bucket_key(location)
        try:
            answer = self._client.get_object(
                Bucket=bucket, Key=key, Range=f"bytes={offset}-{offset + length - 1}"
            )
        except self._client_error as exc:
            if self._code(exc) in _MISSING:
                raise NotFound(f"no data at {self.redact(location)}") from None
            raise
        return self._body(answer["Body"])

    def _body(self, body: Any) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(self.read_chunk_size)
        finally:
            body.close()

    def _delete(self, location: str) -> None:
        bucket, key = self._bucket_key(location)
        self._size(location)
        self._client.delete_object(Bucket=bucket, Key=key)

    def _remove_partial(self, image_id: str) -> int:
        """Abort the unfinished multipart uploads of ``image_id`` (their parts are stored, and
        billed, until aborted). A single ``put_object`` leaves nothing when interrupted."""
        try:
            answer = self._client.list_multipart_uploads(Bucket=self.bucket, Prefix=image_id)
        except self._client_error as exc:
            if self._code(exc) in _MISSING:
                return 0
            raise
        removed = 0
        for upload in answer.get("Uploads", []):
            if upload["Key"] != image_id:
                continue
            try:
                self._client.abort_multipart_upload(
                    Bucket=self.bucket, Key=image_id, UploadId=upload["UploadId"])
            except self._client_error as exc:
                if self._code(exc) not in ("NoSuchUpload", *_MISSING):
                    raise
                continue
            removed += 1
        return removed

    def leftovers(self) -> list[str]:
        """Unfinished multipart uploads in the bucket (should always be empty)."""
        try:
            answer = self._client.list_multipart_uploads(Bucket=self.bucket)
        except self._client_error:
            return []
        return [upload["Key"] for upload in answer.get("Uploads", [])]


def _session(boto3: Any) -> Any:
    """A process-wide boto3 session (clients are cheap from it; callers hold the lock)."""
    if not _SESSIONS:
        _SESSIONS.append(boto3.session.Session())
    return _SESSIONS[0]
