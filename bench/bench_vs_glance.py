#!/usr/bin/env python3
"""glance-domain and a real Glance 33 measured side by side, in one run, by one client.

    .venv/bin/python bench/bench_vs_glance.py                         # defaults (SQLite)
    .venv/bin/python bench/bench_vs_glance.py --images 500 --mib 128  # quicker
    .venv/bin/python bench/bench_vs_glance.py \\
        --glance-db postgresql+psycopg2://postgres@127.0.0.1/bench_glance \\
        --ours-db postgresql+psycopg://postgres@127.0.0.1/bench_ours    # both on PostgreSQL

The first run creates a side virtual environment (``--glance-venv``, default
``~/.cache/glance-domain/bench-glance33``) and installs ``glance==33.0.0`` and ``uwsgi`` into
it (uwsgi builds from source with gcc and the Python headers); later runs reuse it.

Glance runs under uwsgi (``--glance-processes``, default 4, one thread each, as devstack
runs it) with a trusted-identity pipeline (Glance's ``context`` middleware reading the
``X-Roles``/``X-Project-Id`` headers keystonemiddleware would set, no token check), a file
store and, unless ``--glance-db`` says otherwise, SQLite migrated by ``glance-manage
db_sync``. glance-domain runs as ``glance-domain serve`` with its defaults (``--ours-db``: on
that database, migrated first). Both get the same headers and the same workload from
``bench_api`` (create, show, list, patch, upload/download), one server after the other, and
the run prints each figure for both, the ratio (higher is better for glance-domain: rates
divided, times inverted) and the machine limits measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import MiB, file_write_limits, hash_limits, loopback_limits
from bench_api import CONCURRENCY, Api, free_port, run, wait_ready

GLANCE = "glance==33.0.0"
DEFAULT_VENV = Path.home() / ".cache" / "glance-domain" / "bench-glance33"
PROJECT = uuid.uuid4().hex
HEADERS = {"X-Identity-Status": "Confirmed", "X-Roles": "admin,member,reader",
           "X-Project-Id": PROJECT, "X-Tenant-Id": PROJECT, "X-User-Id": "bench-user"}

#: Appended to Glance's own paste file: its keystone pipeline without auth_token.
TRUSTED_PIPELINE = """
[pipeline:glance-api-trusted]
pipeline = cors http_proxy_to_wsgi versionnegotiation context rootapp
"""

UWSGI_OPTIONS = [  # devstack's glance-api uwsgi settings (chunked uploads, raw bodies)
    "--master", "--lazy-apps", "--enable-threads", "--die-on-term", "--exit-on-reload",
    "--thunder-lock", "--http-auto-chunked", "--http-raw-body", "--buffer-size", "65535",
    "--chunked-input-limit", "10485760", "--add-header", "Connection: close",
]


def ensure_glance(venv: Path) -> Path:
    """The side environment's python, with Glance 33 and uwsgi installed."""
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    if stamp.exists():
        return python
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    print(f"# installing {GLANCE} and uwsgi into {venv} (once)", flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    GLANCE, "uwsgi", "psycopg2-binary", "PyMySQL"], check=True)
    stamp.write_text(GLANCE + "\n")
    return python


def _paste_file(venv: Path, directory: Path) -> Path:
    sources = list(venv.glob("etc/glance/glance-api-paste.ini"))
    if not sources:
        raise SystemExit(f"glance-api-paste.ini not found under {venv}/etc/glance")
    target = directory / "glance-api-paste.ini"
    target.write_text(sources[0].read_text() + TRUSTED_PIPELINE)
    return target


@contextmanager
def glance_server(venv: Path, database: str | None, processes: int,
                  keep: bool) -> Iterator[tuple[Api, str]]:
    python = ensure_glance(venv)
    work = Path(tempfile.mkdtemp(prefix="bench-glance33-"))
    for sub in ("images", "staging", "tasks"):
        (work / sub).mkdir()
    paste = _paste_file(venv, work)
    connection = database or f"sqlite:///{work / 'glance.sqlite'}"
    (work / "glance-api.conf").write_text(
        "[DEFAULT]\n"
        "enabled_backends = fs:file\n"
        f"log_file = {work / 'glance-api.log'}\n"
        "[glance_store]\ndefault_backend = fs\n"
        f"[fs]\nfilesystem_store_datadir = {work / 'images'}\n"
        f"[os_glance_staging_store]\nfilesystem_store_datadir = {work / 'staging'}\n"
        f"[os_glance_tasks_store]\nfilesystem_store_datadir = {work / 'tasks'}\n"
        f"[database]\nconnection = {connection}\n"
        f"[paste_deploy]\nflavor = trusted\nconfig_file = {paste}\n"
        "[oslo_policy]\nenforce_scope = false\nenforce_new_defaults = false\n"
    )
    bindir = python.parent
    subprocess.run([str(bindir / "glance-manage"), "--config-file",
                    str(work / "glance-api.conf"), "db_sync"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = free_port()
    env = {**os.environ, "OS_GLANCE_CONFIG_DIR": str(work)}
    with open(work / "uwsgi.log", "wb") as log:
        proc = subprocess.Popen(
            [str(bindir / "uwsgi"), "--http-socket", f"127.0.0.1:{port}",
             "--module", "glance.wsgi.api:application", "--processes", str(processes),
             "--threads", "1", "--home", str(venv), *UWSGI_OPTIONS],
            cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    api = Api(f"http://127.0.0.1:{port}", dict(HEADERS))
    try:
        wait_ready(api, proc, timeout=120)
        yield api, f"Glance 33 under uwsgi, {processes} processes, {connection.split(':')[0]}"
    finally:
        _stop(proc)
        if keep:
            print(f"# kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


@contextmanager
def our_server(database: str | None, keep: bool) -> Iterator[tuple[Api, str]]:
    work = Path(tempfile.mkdtemp(prefix="bench-ours-"))
    binary = Path(sys.executable).parent / "glance-domain"
    command = [str(binary)]
    if database:
        (work / "glance-domain.conf").write_text(f"[database]\nconnection = {database}\n")
        command += ["--config-file", str(work / "glance-domain.conf")]
        subprocess.run([*command, "db", "upgrade"], cwd=work, check=True,
                       stdout=subprocess.DEVNULL)
    port = free_port()
    with open(work / "serve.log", "wb") as log:
        proc = subprocess.Popen(
            [*command, "serve", "--bind-host", "127.0.0.1", "--bind-port", str(port)],
            cwd=work, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    api = Api(f"http://127.0.0.1:{port}", dict(HEADERS))
    try:
        wait_ready(api, proc)
        yield api, f"glance-domain serve (defaults), {(database or 'sqlite').split(':')[0]}"
    finally:
        _stop(proc)
        if keep:
            print(f"# kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def ratio(name: str, ours: float, theirs: float) -> float:
    """How many times better glance-domain is (times: inverted)."""
    if not ours or not theirs:
        return float("nan")
    lower_is_better = name.endswith("(ms)") or name.endswith("(s)")
    return theirs / ours if lower_is_better else ours / theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--glance-venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--glance-db", help="Glance's [database] connection (default SQLite)")
    parser.add_argument("--ours-db", help="glance-domain's [database] connection "
                        "(default: its SQLite file)")
    parser.add_argument("--glance-processes", type=int, default=4)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--patches", type=int, default=400)
    parser.add_argument("--show-requests", type=int, default=2000)
    parser.add_argument("--write-clients", type=int, default=1,
                        help="concurrent writers of create/patch (Glance on SQLite answers "
                        "concurrent writers with 'database is locked')")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--mib", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--phases", default="create,show,list,patch,data")
    parser.add_argument("--no-wrk", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    args.url = None  # each server's work directory goes at the end: no deletes needed
    args.both_clients = False
    args.no_limits = True  # measured once here, for both

    print(f"# {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}, show with "
          f"{CONCURRENCY} clients", flush=True)
    block = os.urandom(MiB)
    limits = {**hash_limits(block, 256), **loopback_limits(max(args.mib, 256) * MiB, repeat=5)}
    with tempfile.TemporaryDirectory(prefix="bench-vs-limits-") as scratch:
        limits.update(file_write_limits(block, max(args.mib, 256), scratch))

    results: dict[str, dict[str, float]] = {}
    servers = (("glance-domain", lambda: our_server(args.ours_db, args.keep)),
               ("Glance 33", lambda: glance_server(args.glance_venv, args.glance_db,
                                                   args.glance_processes, args.keep)))
    for label, start in servers:
        with start() as (api, what):
            print(f"\n# {label}: {what}", flush=True)
            results[label] = run(api, args)

    ours, theirs = results["glance-domain"], results["Glance 33"]
    print(f"\n{'figure':52} {'glance-domain':>14} {'Glance 33':>10} {'ratio':>7}")
    for name in ours:
        if name in theirs:
            print(f"{name:52} {ours[name]:14.1f} {theirs[name]:10.1f} "
                  f"{ratio(name, ours[name], theirs[name]):6.1f}x")
    print(f"\n{'machine limit (same run)':52} {'MB/s':>10}")
    for name, value in limits.items():
        print(f"{name:52} {value:10.0f}")


if __name__ == "__main__":
    main()
