"""A single-node Ceph cluster on 127.0.0.1 for the tests: one monitor, one manager, one OSD on
memstore (data in RAM) and a radosgw serving S3 and the Swift API.

Everything lives in one temporary directory (config, keyrings, daemon data, sockets, logs); the
daemons run in the foreground as children of the test process and are killed by :meth:`stop`.
Start-up takes about 3 s (the monitor's paxos timers are shortened). Debian packages:
``ceph-mon ceph-osd ceph-mgr radosgw ceph-common python3-rados python3-rbd``.

Run ``.venv/bin/python -m tests.stores.servers.ceph`` to start one by hand (Ctrl-C stops it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

from tests.stores.servers import (
    ServerUnavailable,
    die_with_parent,
    free_port,
    free_port_range,
    port_open,
    require_programs,
    stop_all,
    wait_for,
)

PACKAGES = "ceph-mon ceph-osd ceph-mgr radosgw ceph-common python3-rados python3-rbd"
PROGRAMS = ("ceph-mon", "ceph-mgr", "ceph-osd", "radosgw", "ceph", "ceph-authtool",
            "monmaptool", "rbd", "radosgw-admin")
#: The pool created for RBD images.
POOL = "images"


class CephCluster:
    """A running single-node cluster; attributes describe how to reach it."""

    def __init__(self) -> None:
        require_programs(PROGRAMS, PACKAGES)
        self.dir = Path(tempfile.mkdtemp(prefix="gd-ceph-"))
        self.fsid = str(uuid.uuid4())
        self.conf = self.dir / "ceph.conf"
        self.keyring = self.dir / "keyring"
        self.pool = POOL
        self.user = "admin"
        self.rgw_port = 0
        self.s3_access_key = ""
        self.s3_secret_key = ""
        self.swift_user = "glance:swift"
        self.swift_key = ""
        self._procs: list[subprocess.Popen[bytes]] = []
        self._rados: Any = None

    @property
    def rgw_url(self) -> str:
        return f"http://127.0.0.1:{self.rgw_port}"

    # -- helpers ------------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        return {**os.environ, "CEPH_CONF": str(self.conf)}

    def run(self, *cmd: str, timeout: float = 60) -> str:
        """Run a Ceph command-line tool against this cluster and return its stdout."""
        done = subprocess.run(
            cmd, env=self._env(), capture_output=True, timeout=timeout, cwd=self.dir,
        )
        if done.returncode != 0:
            raise ServerUnavailable(
                f"ceph: {' '.join(cmd)} failed ({done.returncode}): "
                f"{done.stderr.decode(errors='replace')[-800:]}"
            )
        return done.stdout.decode()

    def _daemon(self, *cmd: str) -> subprocess.Popen[bytes]:
        log = open(self.dir / "log" / f"{cmd[0]}-{len(self._procs)}.out", "wb")  # noqa: SIM115
        with log:
            proc = subprocess.Popen(
                [*cmd, "-f", "-c", str(self.conf)], env=self._env(), cwd=self.dir,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        self._procs.append(proc)
        return proc

    def _write_conf(self) -> None:
        d = self.dir
        mon_v1, mon_v2, self.rgw_port = free_port(), free_port(), free_port()
        first = free_port_range(24)
        self.conf.write_text(f"""[global]
fsid = {self.fsid}
mon host = [v2:127.0.0.1:{mon_v2},v1:127.0.0.1:{mon_v1}]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv4 = true
ms bind ipv6 = false
ms bind port min = {first}
ms bind port max = {first + 23}
run dir = {d}/run
admin socket = {d}/run/$cluster-$name.asok
pid file = {d}/run/$cluster-$name.pid
log file = {d}/log/$cluster-$name.log
crash dir = {d}/crash
mon data = {d}/mon/$cluster-$id
mgr data = {d}/mgr/$cluster-$id
osd data = {d}/osd/$cluster-$id
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
osd objectstore = memstore
memstore device bytes = {2 << 30}
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd op num threads per shard = 1
osd op num shards = 2

[mon]
keyring = {d}/mon/$cluster-$id/keyring
paxos propose interval = 0.05
paxos min wait = 0.01
mon cluster log file = default={d}/log/ceph.$channel.log cluster={d}/log/ceph.log

[mon.a]
mon addr = [v2:127.0.0.1:{mon_v2},v1:127.0.0.1:{mon_v1}]

[mgr]
keyring = {d}/mgr/$cluster-$id/keyring

[osd]
keyring = {d}/osd/$cluster-$id/keyring

[client]
keyring = {self.keyring}

[client.rgw.gd]
rgw frontends = beast endpoint=127.0.0.1:{self.rgw_port}
rgw data = {d}/rgw
rgw dns name = 127.0.0.1
rgw swift url = http://127.0.0.1:{self.rgw_port}
rgw thread pool size = 32
""")
        self._mon_addr = f"[v2:127.0.0.1:{mon_v2},v1:127.0.0.1:{mon_v1}]"

    # -- start/stop ---------------------------------------------------------------------------
    def start(self) -> CephCluster:
        """Bootstrap the cluster; ServerUnavailable (and nothing left running) on failure."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        for sub in ("run", "log", "crash", "mon/ceph-a", "mgr/ceph-x", "osd/ceph-0", "rgw"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        self._write_conf()
        monkey = self.dir / "mon.keyring"
        self.run("ceph-authtool", "--create-keyring", str(monkey), "--gen-key", "-n", "mon.",
                 "--cap", "mon", "allow *")
        self.run("ceph-authtool", "--create-keyring", str(self.keyring), "--gen-key",
                 "-n", "client.admin", "--cap", "mon", "allow *", "--cap", "osd", "allow *",
                 "--cap", "mgr", "allow *", "--cap", "mds", "allow *")
        self.run("ceph-authtool", str(monkey), "--import-keyring", str(self.keyring))
        monmap = self.dir / "monmap"
        self.run("monmaptool", "--create", "--fsid", self.fsid, "--addv", "a",
                 self._mon_addr, str(monmap))
        self.run("ceph-mon", "--mkfs", "-i", "a", "-c", str(self.conf),
                 "--monmap", str(monmap), "--keyring", str(monkey))
        mon = self._daemon("ceph-mon", "-i", "a")
        wait_for(lambda: (self.dir / "run" / "ceph-mon.a.asok").exists(), "ceph-mon", 30, [mon])
        self._connect()
        mgr_keyring = self.mon("auth get-or-create", entity="mgr.x", format="plain",
                               caps=["mon", "allow profile mgr", "osd", "allow *"])
        (self.dir / "mgr/ceph-x/keyring").write_bytes(mgr_keyring)
        self._daemon("ceph-mgr", "-i", "x")
        osd_uuid = str(uuid.uuid4())
        osd_id = json.loads(self.mon("osd new", uuid=osd_uuid, format="json"))["osdid"]
        self.run("ceph-osd", "-i", str(osd_id), "--mkfs", "--mkkey", "--osd-uuid", osd_uuid,
                 "--no-mon-config", "-c", str(self.conf))
        self.mon("auth add", entity=f"osd.{osd_id}",
                 caps=["osd", "allow *", "mon", "allow profile osd", "mgr", "allow profile osd"],
                 inbuf=(self.dir / f"osd/ceph-{osd_id}/keyring").read_bytes())
        osd = self._daemon("ceph-osd", "-i", str(osd_id))
        wait_for(self._osd_up, "ceph-osd", 60, [mon, osd])
        self.create_pool(POOL)
        rgw_keyring = self.mon("auth get-or-create", entity="client.rgw.gd", format="plain",
                               caps=["mon", "allow rw", "osd", "allow rwx"])
        with open(self.keyring, "ab") as keyring:
            keyring.write(b"\n" + rgw_keyring)
        rgw = self._daemon("radosgw", "-n", "client.rgw.gd")
        wait_for(lambda: port_open(self.rgw_port), "radosgw", 60, [rgw])
        user = json.loads(self.run("radosgw-admin", "user", "create", "--uid", "glance",
                                   "--display-name", "glance"))
        self.s3_access_key = user["keys"][0]["access_key"]
        self.s3_secret_key = user["keys"][0]["secret_key"]
        sub = json.loads(self.run("radosgw-admin", "subuser", "create",
                                  f"--subuser={self.swift_user}", "--access=full",
                                  "--key-type=swift", "--gen-secret"))
        self.swift_key = sub["swift_keys"][0]["secret_key"]

    def _connect(self) -> None:
        try:
            import rados
        except ImportError:
            raise ServerUnavailable(
                "the Python module rados is missing: run `python3 dev.py test` as root on "
                "Debian (installs python3-rados and links it into .venv)"
            ) from None
        self._rados = rados.Rados(conffile=str(self.conf), name="client.admin")
        self._rados.connect(timeout=30)

    def mon(self, prefix: str, *, inbuf: bytes = b"", **args: object) -> bytes:
        """Send one command to the monitor (faster than the ``ceph`` CLI); return its output."""
        code, out, status = self._rados.mon_command(
            json.dumps({"prefix": prefix, **args}), inbuf, timeout=30
        )
        if code != 0:
            raise ServerUnavailable(f"ceph: {prefix} {args} failed ({code}): {status}")
        return bytes(out)

    def create_pool(self, name: str) -> None:
        """Create an RBD pool (a few PGs; tests make one each and delete it afterwards)."""
        self.mon("osd pool create", pool=name, pg_num=4, pgp_num=4)
        self.mon("osd pool application enable", pool=name, app="rbd")
        import rbd

        with self._rados.open_ioctx(name) as ioctx:
            rbd.RBD().pool_init(ioctx, True)

    def delete_pool(self, name: str) -> None:
        self.mon("osd pool delete", pool=name, pool2=name, yes_i_really_really_mean_it=True)

    def _osd_up(self) -> bool:
        stat = json.loads(self.mon("osd stat", format="json"))
        return int(stat.get("num_up_osds", 0)) >= 1

    def stop(self) -> None:
        """Kill every daemon and remove the directory."""
        if self._rados is not None:
            self._rados.shutdown()
            self._rados = None
        stop_all(self._procs, self.dir / "run", grace=0)  # memstore: nothing to keep
        self._procs.clear()
        shutil.rmtree(self.dir, ignore_errors=True)


if __name__ == "__main__":  # pragma: no cover - manual use
    import time

    from tests.stores.servers import stop_on_sigterm

    stop_on_sigterm()
    started = time.monotonic()
    cluster = CephCluster().start()
    print(f"ceph up in {time.monotonic() - started:.1f} s: CEPH_CONF={cluster.conf} "
          f"fsid={cluster.fsid} rgw={cluster.rgw_url} s3={cluster.s3_access_key}"
          f":{cluster.s3_secret_key} swift={cluster.swift_user}:{cluster.swift_key}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
