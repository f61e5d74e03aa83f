#!/usr/bin/env python3
"""Bootstrap and run glance-domain from a fresh checkout, needing only python3.

    python3 dev.py serve   # install on first run, serve on 127.0.0.1:9292 (SQLite, files in ./data)
    python3 dev.py test    # install test tools on first run, then lint, type-check, run every test
                           # (and, as root on Debian, the qemu-utils package if qemu-img is missing)
    python3 dev.py docs    # install Sphinx on first run, build the docs into docs/_build/html

A virtual environment is created in .venv and (re)installed whenever setup.cfg or
constraints.txt change. Extra arguments are passed on (to ``glance-domain serve``, pytest, or
sphinx-build). ``serve`` replaces this process with the server (Ctrl-C or kill stop it), e.g.
``python3 dev.py serve --bind-port 9393`` when 9292 is taken.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"

EXTRAS = {
    "serve": "s3,swift,postgresql,mysql,keystone,clients",
    "test": "s3,swift,postgresql,mysql,keystone,clients,notifications,test",
    "docs": "docs",
}

#: The store driver API's own distribution, which glance-domain requires (installed with it).
STORE_PLUGINS = "store-plugins"
#: Store and import plugin packages installed for the tests: the examples and test-only ones.
PLUGINS = ("examples/*/setup.cfg", "tests/plugins/*/setup.cfg")


def _run(cmd: list[str], **kwargs: object) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.call(cmd, cwd=ROOT, **kwargs)  # type: ignore[arg-type]


def _fingerprint(extras: str) -> str:
    digest = hashlib.sha256(extras.encode())
    for name in ("setup.cfg", "pyproject.toml", "constraints.txt", f"{STORE_PLUGINS}/setup.cfg"):
        path = ROOT / name
        if path.exists():
            digest.update(path.read_bytes())
    for plugin in sorted(p for pattern in PLUGINS for p in ROOT.glob(pattern)):
        digest.update(plugin.read_bytes())
    return digest.hexdigest()


def ensure_installed(kind: str) -> None:
    """Create .venv and install the project (editable) with the extras ``kind`` needs."""
    extras = EXTRAS[kind]
    stamp = VENV / f".installed-{kind}"
    wanted = _fingerprint(extras)
    if stamp.exists() and stamp.read_text() == wanted:
        return
    if not PY.exists() and _run([sys.executable, "-m", "venv", str(VENV)]) != 0:
        sys.exit("could not create the virtual environment in .venv")
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    constraints = ROOT / "constraints.txt"
    pin = ["-c", str(constraints)] if constraints.exists() else []
    if _run([*pip, "--upgrade", "pip", "setuptools", "wheel"]) != 0:
        sys.exit("could not upgrade pip in .venv")
    if _run([*pip, *pin, "-e", f"./{STORE_PLUGINS}", "-e", f".[{extras}]"]) != 0:
        sys.exit("could not install glance-domain into .venv")
    if kind == "test":
        for plugin in sorted(p for pattern in PLUGINS for p in ROOT.glob(pattern)):
            if _run([*pip, *pin, "-e", str(plugin.parent)]) != 0:
                sys.exit(f"could not install the example plugin {plugin.parent.name}")
    stamp.write_text(wanted)


#: Programs the tests need beside Python packages, with the Debian package that has each
#: (``qemu-img``: the ``image_conversion`` import plugin and its tests; the Ceph daemons and
#: tools: the single-node cluster the ``rbd``/``s3``/``swift`` driver tests start on 127.0.0.1;
#: the Swift servers and memcached: the Swift all-in-one those tests start).
SYSTEM_PROGRAMS = {
    "qemu-img": "qemu-utils",
    "ceph-mon": "ceph-mon",
    "ceph-mgr": "ceph-mgr",
    "ceph-osd": "ceph-osd",
    "radosgw": "radosgw",
    "ceph": "ceph-common",
    "swift-proxy-server": "swift-proxy",
    "swift-account-server": "swift-account",
    "swift-container-server": "swift-container",
    "swift-object-server": "swift-object",
    "memcached": "memcached",
}

#: Python extension modules that exist only as Debian packages (not on the package index): the
#: Ceph bindings the ``rbd`` driver uses. :func:`link_system_modules` makes .venv see them.
SYSTEM_MODULES = {"rados": "python3-rados", "rbd": "python3-rbd"}
SYSTEM_MODULE_DIR = Path("/usr/lib/python3/dist-packages")
#: Python packages the Debian-packaged servers need under the system Python (not linked into
#: .venv): keystonemiddleware for the Swift proxy the Keystone tests start.
SYSTEM_PYTHON_PACKAGES = {"keystonemiddleware": "python3-keystonemiddleware"}


def ensure_system_programs() -> None:
    """Install the Debian packages of missing ``SYSTEM_PROGRAMS`` and ``SYSTEM_MODULES`` where
    that is possible (apt-get, run as root); otherwise say what is missing (the tests that need
    it skip, or fail under CI=true). Then link the modules into .venv."""
    import shutil

    missing = {prog: pkg for prog, pkg in SYSTEM_PROGRAMS.items() if shutil.which(prog) is None}
    missing.update({mod: pkg for mod, pkg in SYSTEM_MODULES.items()
                    if not _system_module(mod)})
    missing.update({mod: pkg for mod, pkg in SYSTEM_PYTHON_PACKAGES.items()
                    if not (SYSTEM_MODULE_DIR / mod).is_dir()})
    packages = sorted(set(missing.values()))
    apt = shutil.which("apt-get")
    if not missing:
        pass
    elif apt is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        print(f"note: {', '.join(missing)} not found; install {' '.join(packages)} "
              "(the tests that need it skip, and fail under CI=true)", flush=True)
    else:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if (_run([apt, "-qq", "update"], env=env) != 0
                or _run([apt, "-qq", "install", "-y", "--no-install-recommends", *packages],
                        env=env) != 0):
            print(f"note: could not install {' '.join(packages)}", flush=True)
    link_system_modules()


def _system_module(name: str) -> Path | None:
    """The Debian build of extension module ``name`` for this Python version, if installed."""
    tag = f"cpython-{sys.version_info.major}{sys.version_info.minor}"
    found = sorted(SYSTEM_MODULE_DIR.glob(f"{name}.{tag}-*.so"))
    return found[0] if found else None


def link_system_modules() -> None:
    """Symlink each installed ``SYSTEM_MODULES`` extension into .venv's site-packages.

    Only those files are linked (not the whole dist-packages directory, whose other Debian
    packages would shadow the venv's own versions). The Debian build must be for the venv's
    Python minor version; otherwise the module stays missing and its tests skip.
    """
    found = sorted(VENV.glob("lib/python3*/site-packages"))
    if not found:
        return
    site = found[0]
    for name in SYSTEM_MODULES:
        source = _system_module(name)
        if source is None:
            continue
        link = site / source.name
        if link.is_symlink() and link.resolve() == source.resolve():
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(source)


def _port(args: list[str]) -> str:
    """The port ``serve`` will listen on, as far as the command line says (else 9292)."""
    for index, arg in enumerate(args):
        if arg == "--bind-port" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--bind-port="):
            return arg.partition("=")[2]
    return "9292"


#: The cloud ``dev.py serve`` describes in .venv/clouds.yaml for openstackclient/openstacksdk.
CLOUD = "glance-domain"


def write_clouds_yaml(endpoint: str) -> Path:
    """Write .venv/clouds.yaml: cloud ``glance-domain`` = this server, without keystone
    (``auth_type: none``), so ``openstack image ...`` needs no long options."""
    path = VENV / "clouds.yaml"
    path.write_text(
        "# written by 'python3 dev.py serve' (rewritten on each start)\n"
        f"clouds:\n  {CLOUD}:\n    auth_type: none\n    endpoint: {endpoint}\n",
        encoding="utf-8",
    )
    return path


def serve(args: list[str]) -> int:
    """Install if needed, then become ``glance-domain serve`` (exec: no parent is left in
    between, so Ctrl-C, kill and SIGHUP reach the server itself and stop or reload it)."""
    ensure_installed("serve")
    endpoint = f"http://127.0.0.1:{_port(args)}"
    clouds = write_clouds_yaml(endpoint)
    print(f"openstack: export OS_CLIENT_CONFIG_FILE={clouds} OS_CLOUD={CLOUD}", flush=True)
    print(f"glance:    export OS_IMAGE_URL={endpoint} OS_AUTH_TOKEN=none", flush=True)
    script = str(BIN / "glance-domain")
    os.chdir(ROOT)  # ./data is the checkout's, wherever dev.py was started from
    os.execv(script, [script, "serve", *args])
    return 1  # pragma: no cover - execv does not return


def docs(args: list[str]) -> int:
    """Install Sphinx if needed and build the documentation (warnings are errors, as in the
    tests); the pages end up in docs/_build/html."""
    ensure_installed("docs")
    out = ROOT / "docs" / "_build" / "html"
    code = _run([str(PY), "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", *args,
                 "docs", str(out)])
    if code == 0:
        print(f"docs built: {out / 'index.html'}", flush=True)
    return code


#: pytest's exit status when it collected no tests.
NO_TESTS_COLLECTED = 5


def _selects_tests(args: list[str]) -> bool:
    """Whether the pytest arguments pick tests by hand (a path, a node id, -k, -m...): only
    then may 'no tests collected' pass. A plain full run (what CI runs) that finds no tests is
    broken, and fails."""
    for arg in args:
        if arg in ("-k", "-m", "--deselect", "--lf", "--last-failed") or arg.startswith(
            ("-k", "-m", "--deselect=")
        ):
            return True
        if not arg.startswith("-") and ("::" in arg or (ROOT / arg).exists()):
            return True
    return False


def test(args: list[str]) -> int:
    ensure_installed("test")
    ensure_system_programs()
    checks = [
        [str(BIN / "ruff"), "check", "."],
        [str(PY), "-m", "mypy"],
        [str(BIN / "lint-imports")],
    ]
    for check in checks:
        if _run(check) != 0:
            return 1
    code = _run([str(PY), "-m", "pytest", "-p", "no:cacheprovider", *args])
    if code == NO_TESTS_COLLECTED and _selects_tests(args):
        print("note: no test matched the selection", flush=True)
        return 0
    return code


def main(argv: list[str]) -> int:
    commands = {"serve": serve, "test": test, "docs": docs}
    if not argv or argv[0] not in commands:
        print(__doc__)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
