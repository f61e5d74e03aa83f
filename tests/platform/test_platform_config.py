"""Configuration: Glance's option names, an operator's glance-api.conf, settings, stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from oslo_config import cfg

from glance_domain.settings import DomainSettings
from glance_domain_adapters import bootstrap, config

GLANCE_API_CONF = """
[DEFAULT]
bind_host = 0.0.0.0
bind_port = 9393
workers = 3
image_size_cap = 10737418240
user_storage_quota = 2GB
image_member_quota = 7
image_property_quota = 9
image_tag_quota = 11
image_location_quota = 2
limit_param_default = 10
api_limit_max = 100
show_image_direct_url = True
show_multiple_locations = True
hashing_algorithm = sha256
enabled_backends = fast:file, slow:s3
# options glance-domain does not know must not break loading
enabled_import_methods = [glance-direct,web-download]
node_staging_uri = file:///var/lib/glance/staging
debug = True
log_file = /var/log/glance/api.log

[image_format]
disk_formats = raw,qcow2
container_formats = bare

[database]
connection = sqlite:////var/lib/glance/glance.sqlite
max_pool_size = 10

[glance_store]
default_backend = fast

[fast]
filesystem_store_datadir = {datadir}
store_description = Fast local disks
weight = 5

[slow]
s3_store_host = http://127.0.0.1:9000
s3_store_bucket = images
s3_store_access_key = AKIA
s3_store_secret_key = secret

[os_glance_staging_store]
filesystem_store_datadir = /var/lib/glance/staging

[paste_deploy]
flavor = keystone+cachemanagement

[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:5000
auth_type = password

[oslo_policy]
enforce_scope = True

[taskflow_executor]
conversion_format = raw
"""


def _write(tmp_path: Path, text: str, name: str = "glance-api.conf") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_defaults_listen_on_loopback_and_keep_data_local(tmp_path: Path) -> None:
    conf = bootstrap.load_config([], [])
    assert conf.bind_host == "127.0.0.1"
    assert conf.bind_port == 9292
    assert config.auth_flavor(conf) == "none"
    assert config.uses_default_database(conf)
    assert config.database_url(conf).endswith("/data/glance.sqlite")
    assert config.domain_settings(conf) == DomainSettings()


def test_operator_glance_api_conf_loads(tmp_path: Path) -> None:
    path = _write(tmp_path, GLANCE_API_CONF.format(datadir=tmp_path / "fast"))
    conf = bootstrap.load_config(["--config-file", path])
    assert (conf.bind_host, conf.bind_port, conf.workers) == ("0.0.0.0", 9393, 3)
    assert config.auth_flavor(conf) == "keystone"
    assert config.database_url(conf) == "sqlite:////var/lib/glance/glance.sqlite"
    assert not config.uses_default_database(conf)
    assert config.domain_settings(conf) == DomainSettings(
        disk_formats=("raw", "qcow2"),
        container_formats=("bare",),
        image_size_cap=10737418240,
        user_storage_quota=2 * 1024**3,
        image_member_quota=7,
        image_property_quota=9,
        image_tag_quota=11,
        image_location_quota=2,
        limit_param_default=10,
        api_limit_max=100,
        hashing_algorithm="sha256",
        show_image_direct_url=True,
        show_multiple_locations=True,
        enabled_import_methods=("glance-direct", "web-download"),
    )


def test_multi_store_backend_groups(tmp_path: Path) -> None:
    path = _write(tmp_path, GLANCE_API_CONF.format(datadir=tmp_path / "fast"))
    conf = bootstrap.load_config(config_files=[path])
    stores = config.stores_config(conf)
    assert stores.multi_store and stores.default == "fast"
    fast, slow = stores.backends
    assert (fast.name, fast.driver, fast.weight) == ("fast", "file", 5)
    assert fast.description == "Fast local disks"
    assert fast.options == {"filesystem_store_datadir": str(tmp_path / "fast")}
    assert (slow.name, slow.driver) == ("slow", "s3")
    assert slow.options["s3_store_bucket"] == "images"
    assert slow.options["s3_store_secret_key"] == "secret"
    assert stores.as_registry_mapping()["fast"] == (
        "file", {"filesystem_store_datadir": str(tmp_path / "fast")}
    )


def test_single_store_mode_uses_backend_named_default(tmp_path: Path) -> None:
    path = _write(tmp_path, f"[DEFAULT]\ndata_dir = {tmp_path}\n[glance_store]\n"
                  "stores = file, http\ndefault_store = file\n")
    stores = config.stores_config(bootstrap.load_config(config_files=[path]))
    assert not stores.multi_store
    assert stores.default == "default"
    assert [(b.name, b.driver) for b in stores.backends] == [("default", "file"), ("http", "http")]
    assert stores.backends[0].options == {
        "filesystem_store_datadir": str(tmp_path / "images")
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[DEFAULT]\nenabled_backends = a:tape\n", "unknown store type 'tape'"),
        ("[DEFAULT]\nenabled_backends = a:file\n", "default_backend is not"),
        ("[DEFAULT]\nenabled_backends = a:file\n[glance_store]\ndefault_backend = b\n",
         "not one of enabled_backends"),
        ("[glance_store]\ndefault_store = redis\n", "unknown store type 'redis'"),
    ],
)
def test_bad_store_configuration_is_reported(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=message):
        conf = bootstrap.load_config(config_files=[path])
        config.stores_config(conf)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 0), ("1024", 1024), ("10B", 10), ("2KB", 2048), ("3MB", 3 * 1024**2),
     ("1GB", 1024**3), ("1TB", 1024**4)],
)
def test_user_storage_quota_units(value: str, expected: int) -> None:
    assert config.parse_storage_quota(value) == expected


@pytest.mark.parametrize("value", ["-1", "1 GB", "1gb", "1PB", "lots"])
def test_bad_user_storage_quota_is_rejected(value: str) -> None:
    with pytest.raises(ValueError, match="user_storage_quota"):
        config.parse_storage_quota(value)


def test_wrongly_typed_known_option_fails_clearly(tmp_path: Path) -> None:
    path = _write(tmp_path, "[DEFAULT]\nbind_port = not-a-port\n")
    conf = bootstrap.load_config(config_files=[path])
    with pytest.raises(cfg.ConfigFileValueError, match="bind_port"):
        _ = conf.bind_port


def test_missing_config_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(cfg.ConfigFilesNotFoundError):
        bootstrap.load_config(config_files=[str(tmp_path / "nope.conf")])


def test_list_opts_covers_glance_names() -> None:
    names = {(group, opt.name) for group, opts in config.list_opts() for opt in opts}
    for expected in [
        ("DEFAULT", "bind_host"), ("DEFAULT", "bind_port"), ("DEFAULT", "workers"),
        ("DEFAULT", "image_size_cap"), ("DEFAULT", "user_storage_quota"),
        ("DEFAULT", "enabled_backends"), ("DEFAULT", "hashing_algorithm"),
        ("image_format", "disk_formats"), ("database", "connection"),
        ("glance_store", "default_backend"), ("glance_store", "filesystem_store_datadir"),
        ("glance_store", "s3_store_host"), ("paste_deploy", "flavor"),
    ]:
        assert expected in names


@pytest.mark.parametrize(
    ("flavor", "expected"),
    [("keystone", "keystone"), ("keystone+cachemanagement", "keystone"), ("none", "none"),
     ("", "none"), ("noauth", "none")],
)
def test_auth_flavor(tmp_path: Path, flavor: str, expected: str) -> None:
    path = _write(tmp_path, f"[paste_deploy]\nflavor = {flavor}\n")
    assert config.auth_flavor(bootstrap.load_config(config_files=[path])) == expected


def test_http_store_options_and_bracketed_filter_lists(tmp_path: Path) -> None:
    """The http store's own options reach it from glance-api.conf, and the import filtering
    lists read Glance's bracketed form as well as plain lists."""
    path = _write(tmp_path, (
        f"[DEFAULT]\ndata_dir = {tmp_path}\nenabled_backends = fs:file, web:http\n"
        f"[glance_store]\ndefault_backend = fs\n[fs]\nfilesystem_store_datadir = {tmp_path}\n"
        "[web]\nhttp_store_allowed_networks = 127.0.0.0/8\nhttp_store_max_redirects = 2\n"
        "[import_filtering_opts]\nallowed_ports = [80,443,8080]\n"
        "allowed_hosts = [127.0.0.1]\nallowed_schemes = ['http']\n"))
    conf = bootstrap.load_config(config_files=[path])
    web = next(b for b in config.stores_config(conf).backends if b.name == "web")
    assert web.options["http_store_allowed_networks"] == ["127.0.0.0/8"]
    assert web.options["http_store_max_redirects"] == 2
    flt = conf.import_filtering_opts
    assert (flt.allowed_ports, flt.allowed_hosts, flt.allowed_schemes) == (
        [80, 443, 8080], ["127.0.0.1"], ["http"])
    bad = _write(tmp_path, "[import_filtering_opts]\nallowed_ports = [80,http]\n")
    with pytest.raises(Exception, match="allowed_ports"):
        bootstrap.load_config(config_files=[bad]).import_filtering_opts.allowed_ports  # noqa: B018
