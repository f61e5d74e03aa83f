"""Every option of Glance 33's glance-api.conf is honoured or named in the one start-up line.

``data/glance33-api-options.txt`` lists Glance's options (generated from Glance's option set by
``tools/glance_option_list.py``, with the defaults its sample file shows). A configuration
file setting every one of them that has a default, to that default, must load, build the
whole application and answer a request; the one ``ignored: ...`` warning names exactly the
options of the file glance-domain does not use.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import webob
from oslo_log import _options as log_options

from glance_domain_adapters import bootstrap
from glance_domain_adapters.config import unused

DATA = Path(__file__).with_name("data") / "glance33-api-options.txt"

#: Glance's options glance-domain acts on, outside the store sections (when one is added,
#: this list grows with it, so a reviewer sees it). The oslo.policy group is read whole.
HONOURED = {
    "DEFAULT": {
        "api_limit_max", "container_formats", "disk_formats",  # (deprecated names)
        "default_publisher_id", "delayed_delete", "scrub_pool_size", "scrub_time",
        "disabled_notifications", "enabled_backends", "enabled_import_methods",
        "hashing_algorithm", "image_cache_dir", "image_cache_driver", "image_cache_max_size",
        "image_cache_sqlite_db", "image_cache_stall_time", "image_location_quota",
        "image_member_quota", "image_property_quota", "image_size_cap", "image_tag_quota",
        "limit_param_default", "max_request_id_length", "property_protection_file",
        "property_protection_rule_format", "public_endpoint", "show_image_direct_url",
        "show_multiple_locations", "user_storage_quota", "worker_self_reference_url",
    },
    "cors": {"allow_credentials", "allow_headers", "allow_methods", "allowed_origin",
             "expose_headers", "max_age"},
    "glance_download_properties": {"extra_properties"},
    "database": {"connection", "connection_recycle_time", "max_overflow", "max_pool_size",
                 "pool_timeout"},
    "glance_store": {"default_backend", "default_store", "stores"},
    "image_conversion": {"output_format"},
    "image_format": {"container_formats", "disk_formats", "gpt_safety_checks_nonfatal",
                     "require_image_format_match", "vmdk_allowed_types"},
    "image_import_opts": {"image_import_plugins"},
    "import_filtering_opts": {"allowed_hosts", "allowed_ports", "allowed_schemes",
                              "disallowed_hosts", "disallowed_ports", "disallowed_schemes"},
    "inject_metadata_properties": {"ignore_user_roles", "inject"},
    "paste_deploy": {"flavor"},
    "task": {"task_time_to_live"},
    "wsgi": {"task_pool_threads"},
}


#: Groups a library reads whole: oslo.policy, oslo.messaging's notifier, oslo.middleware's
#: health check and proxy headers, and (with the sample's flavor = keystone)
#: keystonemiddleware.
WHOLE_GROUPS = ("oslo_policy", "oslo_messaging_notifications", "keystone_authtoken",
                "healthcheck", "oslo_middleware", "key_manager", "barbican",
                "barbican_service_user", "vault")
#: oslo.log's options (``[DEFAULT] debug``, ``log_file``...): honoured by oslo.log.
LOG_OPTIONS = {("DEFAULT", opt.dest) for _group, opts in log_options.list_opts()
               for opt in opts} | {("DEFAULT", old.name.replace("-", "_"))
                                   for _group, opts in log_options.list_opts()
                                   for opt in opts for old in opt.deprecated_opts}


def glance_options() -> list[tuple[str, str, str | None, bool]]:
    """``(group, name, default or None, deprecated)`` of every line of the data file."""
    rows = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        group, rest = line[1:].split("] ", 1)
        deprecated = rest.endswith(" (deprecated)")
        rest = rest.removesuffix(" (deprecated)")
        name, sep, value = rest.partition(" = ")
        rows.append((group, name, value if sep else None, deprecated))
    return rows


def test_the_list_covers_glance_33() -> None:
    rows = glance_options()
    assert len(rows) > 500
    groups = {g for g, *_ in rows}
    assert {"DEFAULT", "database", "glance_store", "<backend>", "keystone_authtoken",
            "oslo_policy", "paste_deploy", "import_filtering_opts", "image_format"} <= groups


def _non_store_file(tmp_path: Path) -> Path:
    """Every option outside the store sections that has a default, set to it; file paths
    moved into ``tmp_path``."""
    sections: dict[str, list[str]] = {}
    for group, name, value, deprecated in glance_options():
        if value is None or deprecated or group in ("<backend>", "glance_store"):
            continue
        sections.setdefault(group, []).append(f"{name} = {value}")
    sections["DEFAULT"].append(f"data_dir = {tmp_path / 'data'}")
    sections["glance_store"] = ["default_store = file", "stores = file,http",
                                f"filesystem_store_datadir = {tmp_path / 'images'}"]
    path = tmp_path / "glance-api.conf"
    path.write_text("".join(f"[{group}]\n" + "\n".join(lines) + "\n"
                            for group, lines in sections.items()))
    return path


def test_every_glance_option_loads_and_unused_ones_are_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    path = _non_store_file(tmp_path)
    conf = bootstrap.load_config(config_files=[str(path)])
    app = bootstrap.build_app(conf)
    # the sample's flavor is keystone (and no Keystone runs here): what needs no token
    assert conf.paste_deploy.flavor == "keystone"
    for path in ("/versions", "/healthcheck"):
        resp = webob.Request.blank(path).get_response(app)
        assert resp.status_int == 200, resp.text

    with caplog.at_level(logging.WARNING, logger="glance_domain_adapters.config"):
        line = unused.warn_ignored_options(conf)
    assert line is not None
    warnings = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ignored:")]
    assert warnings == [line]  # one line
    named = set(line.removeprefix("ignored: ").split(" (set in")[0].split(", "))

    written = {(g, n) for g, n, v, d in glance_options()
               if v is not None and not d and g not in ("<backend>", "glance_store")}
    written |= {("glance_store", "default_store"), ("glance_store", "stores")}
    honoured = {(g, n) for g, names in HONOURED.items() for n in names} | LOG_OPTIONS
    for group, name in sorted(written):
        if group in WHOLE_GROUPS:
            assert f"[{group}] {name}" not in named
        elif (group, name) in honoured:
            assert f"[{group}] {name}" not in named, (group, name)
        else:
            assert f"[{group}] {name}" in named, (group, name)
    for group, name in [("database", "db_max_retries"), ("paste_deploy", "config_file"),
                        ("DEFAULT", "transport_url"),
                        ("DEFAULT", "node_staging_uri"), ("DEFAULT", "do_secure_hash")]:
        assert f"[{group}] {name}" in named


def test_honoured_list_matches_what_is_registered(tmp_path: Path) -> None:
    """Every Glance option glance-domain registers is in HONOURED (or deliberately not used),
    so a newly registered option cannot claim Glance's meaning unnoticed."""
    conf = bootstrap.load_config(config_files=[str(_non_store_file(tmp_path))])
    registered = unused.honoured_options(conf)
    glance = {(g, n) for g, n, _v, _d in glance_options()
              if g not in ("<backend>", "glance_store")}
    claimed = {(g, n) for g, names in HONOURED.items() for n in names
               if g != "glance_store"} | (LOG_OPTIONS & glance)
    assert (registered & glance) == claimed


def test_keystone_options_are_ignored_without_the_keystone_flavor(tmp_path: Path) -> None:
    path = tmp_path / "glance-api.conf"
    path.write_text(f"[DEFAULT]\ndata_dir = {tmp_path}\n[keystone_authtoken]\n"
                    "auth_url = http://127.0.0.1:5000\n[os_glance_staging_store]\n"
                    "filesystem_store_datadir = /var/lib/glance/staging\n")
    conf = bootstrap.load_config(config_files=[str(path)])
    assert unused.ignored_options(conf) == [
        "[keystone_authtoken] auth_url", "[os_glance_staging_store] filesystem_store_datadir"]
    path.write_text(path.read_text() + "[paste_deploy]\nflavor = keystone\n")
    conf = bootstrap.load_config(config_files=[str(path)])
    assert unused.ignored_options(conf) == [
        "[os_glance_staging_store] filesystem_store_datadir"]


def test_nothing_is_said_when_everything_is_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "glance-api.conf"
    path.write_text(f"[DEFAULT]\ndata_dir = {tmp_path}\nshow_multiple_locations = true\n")
    conf: Any = bootstrap.load_config(config_files=[str(path)])
    with caplog.at_level(logging.WARNING):
        assert unused.warn_ignored_options(conf) is None
    assert not caplog.records


def test_database_pool_options_reach_the_engine(tmp_path: Path) -> None:
    path = tmp_path / "glance-api.conf"
    path.write_text(f"[DEFAULT]\ndata_dir = {tmp_path}\n[database]\n"
                    "connection = postgresql+psycopg://glance@127.0.0.1:5432/glance\n"
                    "max_pool_size = 7\nmax_overflow = 3\npool_timeout = 12\n"
                    "connection_recycle_time = 600\n")
    conf = bootstrap.load_config(config_files=[str(path)])
    pool: Any = bootstrap.build_repository(conf, migrate=False).engine.pool  # not connected
    assert (pool.size(), pool._max_overflow, pool._timeout, pool._recycle) == (7, 3, 12, 600)
    assert unused.ignored_options(conf) == []
    path.write_text(f"[DEFAULT]\ndata_dir = {tmp_path}\n[database]\n"
                    "connection = postgresql+psycopg://glance@127.0.0.1:5432/glance\n")
    pool = bootstrap.build_repository(bootstrap.load_config(config_files=[str(path)]),
                                      migrate=False).engine.pool
    assert (pool.size(), pool._max_overflow, pool._recycle) == (5, 10, 3600)  # ours


def test_task_pool_threads_sizes_the_task_executor(tmp_path: Path) -> None:
    path = tmp_path / "glance-api.conf"
    path.write_text(f"[DEFAULT]\ndata_dir = {tmp_path}\n[wsgi]\ntask_pool_threads = 3\n")
    gateway = bootstrap.build_gateway(bootstrap.load_config(config_files=[str(path)]))
    assert gateway.importer.executor._pool._max_workers == 3
    path.write_text(f"[DEFAULT]\ndata_dir = {tmp_path}\n")
    gateway = bootstrap.build_gateway(bootstrap.load_config(config_files=[str(path)]))
    assert gateway.importer.executor._pool._max_workers == 4  # [task] task_executor_threads
