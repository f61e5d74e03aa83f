"""The built-in import plugins on real files in a real file staging area: no_op,
inject_image_metadata, image_decompression (gzip, zip, bzip2, xz, zstd, LHA, bombs) and
image_conversion (qemu-img; skipped without it, failed under CI=true)."""

from __future__ import annotations

import bz2
import errno
import gzip
import json
import lzma
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zstandard

from glance_domain.errors import QuotaExceeded, SizeLimitExceeded
from glance_domain.settings import DomainSettings
from glance_domain_adapters.importing.plugins.conversion import ConversionError, ImageConversion
from glance_domain_adapters.importing.plugins.decompression import ImageDecompression, detect
from glance_domain_adapters.importing.plugins.inject_metadata import InjectImageMetadata
from glance_domain_adapters.importing.plugins.no_op import NoOp

from .jobs import make_job, qemu, qemu_img, staged, zip_bytes

DISK = bytes(range(256)) * 4096  # 1 MiB of "disk"


def zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


#: The single-stream formats beyond zip: a compressor for each.
STREAMS = {"gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress, "zstd": zstd}


# -- no_op and inject_image_metadata ---------------------------------------------------------
def test_no_op_changes_nothing(tmp_path: Path) -> None:
    job, holder, staging = make_job(tmp_path, DISK)
    before = holder.image
    NoOp().run(job)
    assert holder.image == before and staged(staging, job) == DISK


def test_inject_sets_properties_for_users_without_an_ignored_role(tmp_path: Path) -> None:
    plugin = InjectImageMetadata({"hw_scsi_model": "virtio-scsi", "os_glance_x": "dropped"},
                                 ["admin", "service"])
    job, holder, _ = make_job(tmp_path, DISK, roles=("member", "reader"))
    plugin.run(job)
    assert holder.image.extra_properties == {"hw_scsi_model": "virtio-scsi"}

    for roles in (("admin",), ("member", "service")):
        job, holder, _ = make_job(tmp_path, DISK, roles=roles)
        plugin.run(job)
        assert holder.image.extra_properties == {}


def test_inject_respects_the_property_quota(tmp_path: Path) -> None:
    job, holder, _ = make_job(tmp_path, DISK, settings=DomainSettings(image_property_quota=1),
                              extra_properties={"mine": "1"})
    with pytest.raises(QuotaExceeded, match="Attempted: 2, Maximum: 1"):
        InjectImageMetadata({"a": "b"}).run(job)
    assert holder.image.extra_properties == {"mine": "1"}


# -- image_decompression -----------------------------------------------------------------------
def test_magic_numbers_are_glances() -> None:
    assert detect(b"PK\x03\x04rest") == "zip"
    assert detect(b"\x1f\x8b\x08\x00") == "gzip"
    assert detect(b"xx-lh5-") == "lha"
    assert detect(b"QFI\xfb") is None and detect(b"") is None
    assert detect(b"\x1f\x8b\x07") is None  # gzip, but not deflate: left alone


def test_magic_numbers_beyond_glance() -> None:
    for name, compress in STREAMS.items():
        assert detect(compress(DISK)[:16]) == name
    assert detect(b"BZhx") is None and detect(b"BZh0") is None  # no bzip2 block size digit
    assert detect(b"\xfd7zXY\x00") is None


@pytest.mark.parametrize(
    "packed",
    [*(compress(DISK) for compress in STREAMS.values()),
     *(compress(DISK[:1000]) + compress(DISK[1000:]) for compress in STREAMS.values()),
     zip_bytes(("disk.img", DISK))],
    ids=[*STREAMS, *(f"{name}-two-members" for name in STREAMS), "zip"],
)
def test_decompression_replaces_the_staged_data(tmp_path: Path, packed: bytes) -> None:
    job, holder, staging = make_job(tmp_path, packed, disk_format="raw")
    assert holder.image.size == len(packed)
    ImageDecompression().run(job)
    assert staged(staging, job) == DISK
    assert holder.image.size == len(DISK) and holder.image.disk_format == "raw"
    assert sorted(os.listdir(staging.directory)) == [job.image_id]  # no temporary files left


def test_uncompressed_data_and_compressed_containers_are_left_alone(tmp_path: Path) -> None:
    job, holder, staging = make_job(tmp_path, DISK)
    ImageDecompression().run(job)
    assert staged(staging, job) == DISK
    packed = gzip.compress(DISK)
    job, holder, staging = make_job(tmp_path, packed, container_format="compressed")
    ImageDecompression().run(job)
    assert staged(staging, job) == packed and holder.image.size == len(packed)


@pytest.mark.parametrize(
    ("packed", "message"),
    [(zip_bytes(("a", b"1"), ("b", b"2")), "Archive contains more than one file."),
     (zip_bytes(("dir/", b"")), "Archive contains no file."),
     (b"\x00\x00-lh5-" + b"\x00" * 100, "No lhafile available"),
     *((compress(DISK)[:-100], "end-of-stream") for compress in STREAMS.values()),
     (zstd(DISK) + zstd(DISK)[:-100], "end-of-stream"),
     (b"PK\x03\x04" + b"\x00" * 100, "not a zip file"),
     (b"BZh9" + b"\x00" * 100, "Invalid data stream"),
     (b"\x28\xb5\x2f\xfd" + b"\xff" * 100, "zstd")],
    ids=["zip-two-files", "zip-directory", "lha", *(f"truncated-{name}" for name in STREAMS),
         "truncated-second-zstd-frame", "corrupt-zip", "corrupt-bzip2", "corrupt-zstd"],
)
def test_archives_glance_refuses(tmp_path: Path, packed: bytes, message: str) -> None:
    job, _holder, staging = make_job(tmp_path, packed)
    with pytest.raises(Exception, match=message):
        ImageDecompression().run(job)
    assert staged(staging, job) == packed  # the staged data is untouched
    assert sorted(os.listdir(staging.directory)) == [job.image_id]


ZEROS = b"\0" * (64 << 20)
#: 64 MiB of zeros in each format (64 KiB in gzip, 2 KiB in zstd, under 100 bytes in bzip2).
BOMBS = [compress(ZEROS) for compress in STREAMS.values()]


@pytest.mark.parametrize(
    ("settings", "stored", "message"),
    [(DomainSettings(image_size_cap=10 << 20), 0, "The incoming image is too large"),
     (DomainSettings(user_storage_quota=30 << 20), 25 << 20,
      "Image exceeds the storage quota: The size of the data 5242881 will exceed the limit. "
      "5242880 bytes remaining.")],
    ids=["size-cap", "storage-quota"],
)
def test_decompression_bombs_stop_at_the_size_cap_and_the_storage_quota(
    tmp_path: Path, settings: DomainSettings, stored: int, message: str
) -> None:
    for packed in (*BOMBS, zip_bytes(("bomb", ZEROS))):
        job, _, staging = make_job(tmp_path, packed, settings=settings, stored=stored)
        with pytest.raises(SizeLimitExceeded, match=message):
            ImageDecompression().run(job)
        assert staged(staging, job) == packed
        assert sorted(os.listdir(staging.directory)) == [job.image_id]


# -- image_conversion (qemu-img) -------------------------------------------------------------
def _make(tmp_path: Path, fmt: str, *options: str) -> bytes:
    raw = tmp_path / "disk.raw"
    raw.write_bytes(DISK)
    out = tmp_path / f"disk.{fmt}"
    qemu("convert", "-f", "raw", "-O", fmt, *options, str(raw), str(out))
    return out.read_bytes()


def _info(tmp_path: Path, data: bytes) -> dict[str, object]:
    path = tmp_path / "check.img"
    path.write_bytes(data)
    result = subprocess.run([qemu_img(), "info", "--output=json", str(path)],
                            check=True, capture_output=True, text=True)
    return dict(json.loads(result.stdout))


@pytest.mark.parametrize(("source", "target"), [("qcow2", "raw"), ("raw", "qcow2"),
                                                ("vmdk", "raw"), ("qcow2", "vmdk")])
def test_conversion_to_the_output_format(tmp_path: Path, source: str, target: str) -> None:
    data = DISK if source == "raw" else _make(tmp_path, source)
    job, holder, staging = make_job(tmp_path, data, disk_format=source)
    ImageConversion(target, qemu_img=qemu_img()).run(job)
    converted = staged(staging, job)
    assert _info(tmp_path, converted)["format"] == target
    if target == "raw":
        assert converted == DISK
    image = holder.image
    assert image.disk_format == target and image.container_format == "bare"
    assert image.size == len(converted) and image.virtual_size == len(DISK)
    assert sorted(os.listdir(staging.directory)) == [job.image_id]


def test_data_already_in_the_output_format_is_left_alone(tmp_path: Path) -> None:
    data = _make(tmp_path, "qcow2")
    job, holder, staging = make_job(tmp_path, data, disk_format="qcow2")
    ImageConversion("qcow2", qemu_img=qemu_img()).run(job)
    assert staged(staging, job) == data and holder.image.disk_format == "qcow2"
    assert holder.image.virtual_size == len(DISK)


def test_conversion_refuses_unsafe_or_mismatching_data(tmp_path: Path) -> None:
    qemu_img()
    base = tmp_path / "base.raw"
    base.write_bytes(DISK)
    backed = tmp_path / "backed.qcow2"
    qemu("create", "-f", "qcow2", "-b", str(base), "-F", "raw", str(backed))
    data_file = tmp_path / "datafile.qcow2"
    qemu("create", "-f", "qcow2", "-o", f"data_file={tmp_path / 'external.raw'}",
         str(data_file), "1M")
    cases = [
        (backed.read_bytes(), "qcow2", "Image has disallowed configuration"),
        (data_file.read_bytes(), "qcow2", "Image has disallowed configuration"),
        (_make(tmp_path, "qcow2"), "raw", "Image format mismatch"),
        (DISK, "qcow2", "Image format mismatch"),
    ]
    for data, claimed, message in cases:
        job, holder, staging = make_job(tmp_path, data, disk_format=claimed)
        with pytest.raises(ConversionError, match=message):
            ImageConversion("raw", qemu_img=qemu_img()).run(job)
        assert staged(staging, job) == data and holder.image.disk_format == claimed
        assert sorted(os.listdir(staging.directory)) == [job.image_id]


def test_vmdk_create_types_outside_the_allowed_list_are_refused(tmp_path: Path) -> None:
    data = _make(tmp_path, "vmdk")  # monolithicSparse
    job, _, _ = make_job(tmp_path, data, disk_format="vmdk")
    with pytest.raises(ConversionError, match="Invalid VMDK create-type"):
        ImageConversion("raw", vmdk_allowed_types=["streamOptimized"],
                        qemu_img=qemu_img()).run(job)
    with pytest.raises(ConversionError, match="no VMDK createType is specified"):
        ImageConversion("raw", vmdk_allowed_types=[], qemu_img=qemu_img()).run(job)


def test_a_raw_output_beyond_the_size_cap_is_refused_before_converting(tmp_path: Path) -> None:
    big = tmp_path / "big.qcow2"
    qemu("create", "-f", "qcow2", str(big), "100G")  # a few hundred KiB, 100 GiB virtual
    data = big.read_bytes()
    job, holder, staging = make_job(tmp_path, data, disk_format="qcow2",
                                    settings=DomainSettings(image_size_cap=1 << 30))
    with pytest.raises(SizeLimitExceeded, match="too large"):
        ImageConversion("raw", qemu_img=qemu_img()).run(job)
    assert staged(staging, job) == data and holder.image.disk_format == "qcow2"
    assert sorted(os.listdir(staging.directory)) == [job.image_id]


def test_iso_is_never_converted(tmp_path: Path) -> None:
    iso = bytearray(DISK * 2)
    iso[0x8001:0x8006] = b"CD001"  # the ISO 9660 primary volume descriptor signature
    iso[0x8000] = 1
    job, holder, staging = make_job(tmp_path, bytes(iso), disk_format="iso")
    ImageConversion("raw", qemu_img=qemu_img()).run(job)  # an error here is a failure
    assert staged(staging, job) == bytes(iso) and holder.image.disk_format == "iso"


@pytest.mark.parametrize("target", ["vmdk", "qcow2"])
def test_a_huge_virtual_size_is_refused_whatever_the_output_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    """A tiny qcow2 claiming 100 TiB: qemu-img convert never runs (its vmdk or qcow2 output
    would be written far beyond the cap before anything could refuse it)."""
    from glance_domain_adapters.importing.plugins import conversion

    source = "qcow2" if target == "vmdk" else "vmdk"
    image = tmp_path / f"huge.{source}"
    qemu("create", "-f", source, str(image), "100T")
    converts: list[list[str]] = []
    real_run = subprocess.run

    def spy(command: list[str], *args: object, **kwargs: object) -> object:
        if "convert" in command:
            converts.append(command)
        return real_run(command, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(conversion.subprocess, "run", spy)
    job, _, _ = make_job(tmp_path, image.read_bytes(), disk_format=source,
                         settings=DomainSettings(image_size_cap=10 << 20))
    plugin = ImageConversion(target, qemu_img=qemu_img(),
                             vmdk_allowed_types=("streamOptimized", "monolithicSparse"))
    with pytest.raises(SizeLimitExceeded):
        plugin.run(job)
    assert converts == []


def test_the_conversion_output_cannot_grow_past_its_file_size_limit(tmp_path: Path) -> None:
    """The file-size limit qemu-img convert runs under: a write past it fails (EFBIG; SIGXFSZ
    stays ignored as Python leaves it), which the plugin reports as the size limit."""
    target = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "glance_domain_adapters.importing.plugins._limits", "0", "0",
         str(1 << 20), "--", "dd", "if=/dev/zero", f"of={target}", "bs=1M", "count=4"],
        capture_output=True, text=True, check=False)
    assert result.returncode != 0 and os.strerror(errno.EFBIG) in result.stderr
    assert target.stat().st_size <= 1 << 20


def test_inject_drops_core_and_reserved_names(tmp_path: Path) -> None:
    job, holder, _ = make_job(tmp_path, b"data")
    InjectImageMetadata({"direct_url": "file:///etc/passwd", "visibility": "public",
                         "locations": "x", "deleted": "1", "os_glance_x": "1", "ok": "yes"},
                        ("admin",)).run(job)
    assert holder.image.extra_properties == {"ok": "yes"}
    assert holder.image.visibility != "public"


def test_ignore_user_roles_may_be_written_in_brackets(tmp_path: Path) -> None:
    from glance_domain_adapters import bootstrap

    conf = tmp_path / "glance-api.conf"
    conf.write_text("[inject_metadata_properties]\nignore_user_roles = [admin, Member]\n")
    loaded = bootstrap.load_config(config_files=[str(conf)])
    assert list(loaded.inject_metadata_properties.ignore_user_roles) == ["admin", "Member"]


def test_temporary_files_of_dead_writes_are_swept_at_start(tmp_path: Path) -> None:
    """A worker killed mid-upload or mid-conversion leaves a temporary file: the next process
    to open the staging area removes it once it is an hour old; live writes and staged images
    are left alone."""
    from glance_domain_adapters.importing import FileStagingArea

    directory = tmp_path / "staging"
    first = FileStagingArea(str(directory))
    image_id = "6f1d5c8e-7a0b-4c1e-9d2f-3b4a5c6d7e8f"
    first.write(image_id, [b"staged"])
    old = time.time() - 7200
    for name in (".staging-dead", ".convert-dead", ".staging-live"):
        (directory / name).write_bytes(b"x")
    for name in (".staging-dead", ".convert-dead"):
        os.utime(directory / name, (old, old))
    os.utime(directory / image_id, (old, old))  # an old staged image stays
    FileStagingArea(str(directory))
    assert sorted(os.listdir(directory)) == [".staging-live", image_id]
    assert first.exists(image_id)


def test_zstd_output_comes_in_bounded_pieces(tmp_path: Path) -> None:
    """A zstd bomb expands ~32,000 times: fed whole, one call would allocate it all at once."""
    from glance_domain_adapters.importing.plugins.decompression import _zstd

    path = tmp_path / "bomb.zst"
    path.write_bytes(zstd(b"\0" * (256 << 20)))
    assert path.stat().st_size < 16 << 10
    largest = total = 0
    for piece in _zstd(str(path)):
        largest, total = max(largest, len(piece)), total + len(piece)
    assert total == 256 << 20
    assert largest <= 40 << 20
