"""File driver specifics: refused locations, atomic writes, thin provisioning, options."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from glance_store_plugins import (
    BackendError,
    Capability,
    ConfigError,
    Duplicate,
    InvalidLocation,
    NotFound,
    SizeLimitExceeded,
)
from glance_store_plugins.drivers.filesystem import FileStore


@pytest.fixture
def datadir(tmp_path: Path) -> Path:
    return tmp_path / "images"


def buffered(datadir: Path) -> dict[str, str]:
    """Options of a store writing through the page cache (write-behind and its options)."""
    return {"filesystem_store_datadir": str(datadir), "filesystem_store_direct_io": "false"}


@pytest.fixture
def store(datadir: Path) -> FileStore:
    return FileStore({"filesystem_store_datadir": str(datadir)}, backend="files")


def test_location_is_file_url_in_datadir(store: FileStore, datadir: Path) -> None:
    result = store.write("img", iter([b"abc"]))
    assert result.url == f"file://{os.path.realpath(datadir)}/img"
    assert (datadir / "img").read_bytes() == b"abc"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file://{d}/../outside",
        "file://{d}/sub/../../outside",
        "file://otherhost{d}/img",
        "file://{d}",
        "file://{d}/",
        "relative/path",
        "file:relative",
    ],
)
def test_locations_outside_datadir_are_refused(store: FileStore, datadir: Path, url: str) -> None:
    (datadir.parent / "outside").write_bytes(b"secret")
    url = url.format(d=os.path.realpath(datadir))
    assert not store.owns(url)
    with pytest.raises(InvalidLocation):
        store.read(url)
    with pytest.raises(InvalidLocation):
        store.delete(url)
    assert (datadir.parent / "outside").exists()


def test_symlink_escaping_datadir_is_refused(store: FileStore, datadir: Path) -> None:
    secret = datadir.parent / "secret"
    secret.write_bytes(b"top secret")
    (datadir / "link").symlink_to(secret)
    (datadir / "dirlink").symlink_to(datadir.parent, target_is_directory=True)
    for url in (f"file://{datadir}/link", f"file://{datadir}/dirlink/secret"):
        with pytest.raises(InvalidLocation):
            store.read(url)
        with pytest.raises(InvalidLocation):
            store.delete(url)
    assert secret.read_bytes() == b"top secret"


def test_directory_in_datadir_is_not_data(store: FileStore, datadir: Path) -> None:
    (datadir / "subdir").mkdir()
    with pytest.raises(NotFound):
        store.read(f"file://{datadir}/subdir")


def test_partial_write_never_visible_under_final_name(store: FileStore, datadir: Path) -> None:
    seen: list[list[str]] = []

    def source() -> Iterator[bytes]:
        yield b"a" * (2 << 20)
        seen.append(sorted(os.listdir(datadir)))
        yield b"b" * (2 << 20)
        raise OSError("disk on fire")

    with pytest.raises(OSError, match="disk on fire"):
        store.write("img", source())
    assert "img" not in seen[0]
    assert any(name.startswith(".img.") for name in seen[0])  # the temporary file
    assert os.listdir(datadir) == []


def test_size_limit_removes_temp_file(store: FileStore, datadir: Path) -> None:
    with pytest.raises(SizeLimitExceeded):
        store.write("img", iter([b"x" * 1000] * 10), max_size=9999)
    assert os.listdir(datadir) == []


def test_existing_file_is_never_overwritten(store: FileStore, datadir: Path) -> None:
    (datadir / "img").write_bytes(b"precious")
    with pytest.raises(Duplicate):
        store.write("img", iter([b"new"]))
    assert (datadir / "img").read_bytes() == b"precious"
    assert store.leftovers() == []


def test_thin_provisioning_makes_holes(datadir: Path) -> None:
    store = FileStore(
        {"filesystem_store_datadir": str(datadir), "filesystem_thin_provisioning": True},
        backend="thin",
    )
    assert Capability.THIN_PROVISIONING in store.capabilities
    zeros = bytes(8 << 20)
    result = store.write("sparse", iter([b"head", zeros, zeros]))
    info = os.stat(datadir / "sparse")
    assert info.st_size == 4 + 2 * len(zeros) == result.size
    assert info.st_blocks * 512 < len(zeros)  # holes, not written zeros
    assert store.read(result.url).read_all() == b"head" + zeros + zeros


def test_trailing_hole_keeps_size(datadir: Path) -> None:
    store = FileStore(
        {"filesystem_store_datadir": str(datadir), "filesystem_thin_provisioning": "true"},
    )
    result = store.write("tail", iter([b"x" * (1 << 20), bytes(2 << 20)]))
    assert os.path.getsize(datadir / "tail") == 3 << 20 == result.size


def test_file_permissions_option(datadir: Path) -> None:
    store = FileStore(
        {"filesystem_store_datadir": str(datadir), "filesystem_store_file_perm": "640"}
    )
    store.write("img", iter([b"x"]))
    assert os.stat(datadir / "img").st_mode & 0o777 == 0o640


def test_highest_priority_directory_is_used(tmp_path: Path) -> None:
    store = FileStore(
        {"filesystem_store_datadirs": f"{tmp_path}/low:1,{tmp_path}/high:200"}, backend="x"
    )
    result = store.write("img", iter([b"x"]), size=1)
    assert (tmp_path / "high" / "img").exists()
    assert store.owns(result.url)
    (tmp_path / "low" / "other").write_bytes(b"y")
    assert store.read(f"file://{tmp_path}/low/other").read_all() == b"y"


def test_read_exposes_positioned_file(store: FileStore) -> None:
    url = store.write("img", iter([b"0123456789"])).url
    with store.read(url, offset=3, length=4) as stream:
        assert stream.file is not None
        assert stream.file.tell() == 3
        assert stream.length == 4
        assert stream.file.fileno() >= 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"filesystem_store_datadir": "relative"}, "absolute"),
        ({"filesystem_store_datadir": "/a", "filesystem_store_datadirs": "/b"}, "not both"),
        ({"filesystem_store_chunk_size": "big"}, "filesystem_store_chunk_size"),
        ({"filesystem_thin_provisioning": "maybe"}, "filesystem_thin_provisioning"),
        ({"filesystem_store_file_perm": "999"}, "octal"),
        ({"filesystem_store_datadir": "/proc/forbidden"}, "data directory"),
    ],
)
def test_bad_options_fail_loudly(tmp_path: Path, options: dict[str, str], message: str) -> None:
    if "filesystem_store_datadir" not in options and "filesystem_store_datadirs" not in options:
        options = {**options, "filesystem_store_datadir": str(tmp_path)}
    with pytest.raises(ConfigError, match=message):
        FileStore(options, backend="bad")


# -- write-behind ----------------------------------------------------------------------------


def test_write_behind_keeps_data_and_advances(datadir: Path) -> None:
    from glance_store_plugins.drivers import filesystem

    store = FileStore(buffered(datadir), backend="wb")
    windows = 3
    block = os.urandom(1 << 20)
    chunks = [block] * (windows * filesystem.WRITE_BEHIND_WINDOW // len(block) + 1)
    seen: list[int] = []
    original = filesystem.WriteBehind.advance

    def spy(self: filesystem.WriteBehind, offset: int) -> None:
        original(self, offset)
        seen.append(self.next_window)

    filesystem.WriteBehind.advance = spy  # type: ignore[method-assign]
    try:
        result = store.write("wb", iter(chunks))
    finally:
        filesystem.WriteBehind.advance = original  # type: ignore[method-assign]
    assert (datadir / "wb").read_bytes() == b"".join(chunks)
    assert result.size == len(chunks) * len(block)
    if filesystem._sync_file_range is not None:
        assert seen[-1] == (windows + 1) * filesystem.WRITE_BEHIND_WINDOW
    assert store.leftovers() == []


def test_write_behind_refused_advice_is_harmless() -> None:
    from glance_store_plugins.drivers import filesystem

    read_end, write_end = os.pipe()  # sync_file_range refuses pipes (ESPIPE)
    try:
        behind = filesystem.WriteBehind(write_end, window=4096)
        behind.advance(3 * 4096)
        assert behind.next_window > 1 << 40  # gave up quietly, the final fsync does it all
    finally:
        os.close(read_end)
        os.close(write_end)


def test_write_behind_can_be_disabled(datadir: Path) -> None:
    store = FileStore({**buffered(datadir), "filesystem_store_write_behind": "false"})
    data = os.urandom(3 << 20)
    result = store.write("plain", iter([data]))
    assert (datadir / "plain").read_bytes() == data == store.read(result.url).read_all()


def test_write_behind_drop_cache_is_an_option(datadir: Path) -> None:
    """Dropping written windows from the page cache trades first-download speed for upload
    speed; it is off by default and, when on, still keeps every byte."""
    from glance_store_plugins.drivers import filesystem

    assert FileStore({"filesystem_store_datadir": str(datadir)})._drop_cache is False
    store = FileStore({**buffered(datadir), "filesystem_store_drop_cache": "true"})
    data = os.urandom(3 * filesystem.WRITE_BEHIND_WINDOW + 12345)
    result = store.write("dropped", iter([data[i:i + (1 << 20)] for i in
                                          range(0, len(data), 1 << 20)]))
    assert (datadir / "dropped").read_bytes() == data == store.read(result.url).read_all()


def test_write_behind_reports_a_writeback_error(datadir: Path, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    """sync_file_range(WAIT_AFTER) consumes the file's writeback error (Linux advances the
    fd's errseq cursor), so the final fsync would then succeed: a disk EIO seen by the
    write-behind must fail the write, not be taken for refused advice. The disk error is
    injected at the libc call (a real one needs a failing block device)."""
    import ctypes
    import errno

    from glance_store_plugins.drivers import filesystem

    calls: list[int] = []

    def failing_sync_file_range(fd: int, offset: int, length: int, flags: int) -> int:
        calls.append(flags)
        if flags & filesystem._SYNC_FILE_RANGE_WAIT_AFTER:
            ctypes.set_errno(errno.EIO)
            return -1
        return 0

    monkeypatch.setattr(filesystem, "_sync_file_range", failing_sync_file_range)
    store = FileStore(buffered(datadir), backend="eio")
    block = os.urandom(1 << 20)
    chunks = [block] * (3 * filesystem.WRITE_BEHIND_WINDOW // len(block))
    with pytest.raises(BackendError, match="Input/output error"):
        store.write("eio", iter(chunks))
    assert any(flags & filesystem._SYNC_FILE_RANGE_WAIT_AFTER for flags in calls)
    assert not (datadir / "eio").exists()
    assert store.leftovers() == []


def test_a_failed_directory_fsync_leaves_no_data_behind(
        datadir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The directory fsync comes after the file got its final name: when it fails the write
    fails, so the file must go too, or a retried upload meets Duplicate ("data already
    exists") for data no image points at. The disk error is injected (it needs a failing
    device otherwise)."""
    import errno

    from glance_store_plugins.drivers import filesystem

    def failing_fsync_dir(path: str) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    store = FileStore({"filesystem_store_datadir": str(datadir)}, backend="dirsync")
    with monkeypatch.context() as patch:
        patch.setattr(filesystem, "_fsync_dir", failing_fsync_dir)
        with pytest.raises(BackendError, match="Input/output error"):
            store.write("img", iter([b"data"]))
    assert not (datadir / "img").exists()
    assert store.leftovers() == []
    assert store.write("img", iter([b"data"])).size == 4  # a retry is not a Duplicate


def test_large_chunks_are_written_in_pieces(datadir: Path) -> None:
    """A chunk several times ``WRITE_PIECE`` long (and not a multiple of it) lands whole and in
    order: the driver splits each write into small pieces (see ``WRITE_PIECE``)."""
    from glance_store_plugins.drivers import filesystem

    store = FileStore(buffered(datadir), backend="pieces")
    data = os.urandom(5 * filesystem.WRITE_PIECE + 777)
    result = store.write("pieces", iter([data, data[:100]]))
    assert (datadir / "pieces").read_bytes() == data + data[:100]
    assert store.read(result.url).read_all() == data + data[:100]
