"""``pip install glance-domain`` alone (no extras) gives a working ``glance-domain``: every
command runs, ``serve`` serves.

Offline and reproducible: the two wheels built by the suite are installed with ``--no-index``
into a fresh virtual environment that sees, besides them, only the installed distributions the
wheels' *core* requirements name (transitively, through their metadata): a module the code
imports without declaring it (gunicorn as an extra, oslo.utils, cryptography...) is missing
there, as it would be after a real ``pip install``.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import time
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.e2e.conftest import _free_port, stop_server

LOCAL = {"glance-domain", "glance-store-plugins"}


def _core_requirements(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(meta).decode()
    reqs = [Requirement(line.split(":", 1)[1].strip()) for line in text.splitlines()
            if line.startswith("Requires-Dist:")]
    env = {**default_environment(), "extra": ""}
    return [r for r in reqs if r.marker is None or r.marker.evaluate(env)]


def _closure(roots: list[Requirement]) -> dict[str, importlib.metadata.Distribution]:
    """Installed distributions (of this test environment) the requirements need."""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = [(r, frozenset(r.extras)) for r in roots]
    while todo:
        req, extras = todo.pop()
        name = canonicalize_name(req.name)
        if name in LOCAL:
            continue
        key = f"{name}[{','.join(sorted(extras))}]"
        if key in found:
            continue
        dist = importlib.metadata.distribution(req.name)
        found[key] = dist
        for text in dist.requires or []:
            sub = Requirement(text)
            wanted = [{**default_environment(), "extra": e} for e in ("", *extras)]
            if sub.marker is None or any(sub.marker.evaluate(env) for env in wanted):
                todo.append((sub, frozenset(sub.extras)))
    return found


def _site_of(dists: dict[str, importlib.metadata.Distribution], target: Path) -> None:
    """Link the top-level files of ``dists`` into ``target`` (a directory for a .pth file)."""
    target.mkdir()
    for dist in dists.values():
        base = Path(str(dist.locate_file("")))
        for file in dist.files or []:
            top = Path(file).parts[0]
            if top == ".." or top.endswith(".pth"):
                continue
            link = target / top
            if not link.exists():
                link.symlink_to(base / top)


@pytest.fixture(scope="module")
def plain_env(built: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with both wheels installed from files only; returns its bin folder."""
    root = tmp_path_factory.mktemp("plain")
    wheels = [built["glance_store_plugins"], built["glance_domain"]]
    deps = _closure([r for w in wheels for r in _core_requirements(w)])
    _site_of(deps, root / "deps")
    venv.create(root / "venv", with_pip=True)
    python = root / "venv" / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True)
    Path(site.stdout.strip(), "deps.pth").write_text(str(root / "deps") + "\n")
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-index", "--no-cache-dir",
         "--disable-pip-version-check", *map(str, wheels)],
        capture_output=True, text=True, timeout=600, env=_clean_env(),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root / "venv" / "bin"


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}


def _cli(bin_dir: Path, cwd: Path, *args: str) -> str:
    result = subprocess.run(
        [str(bin_dir / "glance-domain"), "--config-file", str(cwd / "glance-api.conf"), *args],
        capture_output=True, text=True, timeout=300, cwd=cwd, env=_clean_env(),
    )
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-2000:])
    return result.stdout


@pytest.mark.slow
def test_every_command_runs_from_a_plain_install(plain_env: Path, tmp_path: Path) -> None:
    port = _free_port()
    (tmp_path / "glance-api.conf").write_text(
        f"[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = {port}\nworkers = 1\n"
        f"data_dir = {tmp_path}/data\nimage_cache_dir = {tmp_path}/cache\n")
    (tmp_path / "disk.raw").write_bytes(os.urandom(4096))
    _cli(plain_env, tmp_path, "db", "upgrade")
    _cli(plain_env, tmp_path, "db", "version")
    (tmp_path / "metadefs").mkdir()
    (tmp_path / "metadefs" / "example.json").write_text(json.dumps(
        {"namespace": "Plain::Example", "display_name": "Example", "visibility": "public",
         "properties": {"plain_prop": {"title": "Prop", "type": "string"}}}))
    _cli(plain_env, tmp_path, "db", "load-metadefs", "--path", str(tmp_path / "metadefs"))
    image = json.loads(_cli(plain_env, tmp_path, "-f", "json", "image", "create", "--name",
                            "plain", "--disk-format", "raw", "--container-format", "bare",
                            "--file", str(tmp_path / "disk.raw")))
    image_id = image["id"]
    other = "12345678123456781234567812345678"
    for args in (["image", "list"], ["image", "show", image_id],
                 ["image", "update", image_id, "--name", "renamed"],
                 ["image", "tag", "add", image_id, "t1"],
                 ["image", "tag", "remove", image_id, "t1"],
                 ["image", "member", "add", image_id, other],
                 ["image", "member", "list", image_id],
                 ["image", "member", "show", image_id, other],
                 ["image", "member", "remove", image_id, other],
                 ["image", "deactivate", image_id], ["image", "reactivate", image_id],
                 ["image", "download", image_id, "--file", str(tmp_path / "back.raw")],
                 ["cache", "queue", image_id], ["cache", "prefetch"], ["cache", "list"],
                 ["cache", "delete", image_id], ["cache", "prune"], ["cache", "clean"],
                 ["cache", "clear"]):
        _cli(plain_env, tmp_path, *args)
    assert (tmp_path / "back.raw").read_bytes() == (tmp_path / "disk.raw").read_bytes()
    queued = json.loads(_cli(plain_env, tmp_path, "-f", "json", "image", "create", "--name",
                             "later", "--disk-format", "raw", "--container-format", "bare"))
    _cli(plain_env, tmp_path, "image", "upload", queued["id"], "--file",
         str(tmp_path / "disk.raw"))
    _cli(plain_env, tmp_path, "image", "delete", queued["id"])
    _cli(plain_env, tmp_path, "db", "purge", "--age-in-days", "0")

    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [str(plain_env / "glance-domain"), "--config-file", str(tmp_path / "glance-api.conf"),
         "serve"], stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, env=_clean_env(),
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/v2/images/{image_id}/file"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    assert resp.read() == (tmp_path / "disk.raw").read_bytes()
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
    finally:
        stop_server(proc)
        log.close()


@pytest.mark.slow
def test_plain_install_has_no_extras_packages(plain_env: Path) -> None:
    """Optional backends stay optional: boto3, keystonemiddleware, oslo.messaging, database
    drivers and the clients are not needed (nor present) for the commands above."""
    result = subprocess.run(
        [str(plain_env / "python"), "-c", "import importlib.util as u, sys; print(','.join("
         "m for m in ('boto3', 'keystonemiddleware', 'oslo_messaging', 'psycopg', 'pymysql',"
         " 'glanceclient', 'pytest') if u.find_spec(m)))"],
        capture_output=True, text=True, timeout=60, env=_clean_env(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
    check = subprocess.run([str(plain_env / "python"), "-m", "pip", "check"],
                           capture_output=True, text=True, timeout=120, env=_clean_env())
    assert check.returncode == 0, check.stdout + check.stderr
