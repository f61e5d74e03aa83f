"""``/v2/info/stores/detail`` shows Glance's per-driver store properties."""

from __future__ import annotations

from pathlib import Path

import webob

from glance_domain_adapters import bootstrap

CONF = """[DEFAULT]
data_dir = {data}
enabled_backends = fs:file, objects:s3

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = {data}/images
filesystem_store_chunk_size = 131072

[objects]
s3_store_host = http://127.0.0.1:1
s3_store_bucket = images
s3_store_large_object_size = 50
"""


def test_file_and_s3_store_properties(tmp_path: Path) -> None:
    path = tmp_path / "glance-api.conf"
    path.write_text(CONF.format(data=tmp_path))
    conf = bootstrap.load_config(config_files=[str(path)])
    details = bootstrap.api_settings(conf).store_details
    assert details["fs"].properties == {
        "data_dir": f"{tmp_path}/images", "chunk_size": 131072, "thin_provisioning": False,
    }
    assert details["objects"].properties == {
        "s3_store_large_object_size": 50 << 20,
        "s3_store_large_object_chunk_size": 10 << 20,
        "s3_store_thread_pools": 10,
    }


def test_store_detail_endpoint_shows_file_properties(tmp_path: Path) -> None:
    path = tmp_path / "glance-api.conf"
    path.write_text(f"[DEFAULT]\ndata_dir = {tmp_path}\n")
    app = bootstrap.build_app(bootstrap.load_config(config_files=[str(path)]))
    req = webob.Request.blank("/v2/info/stores/detail", headers={
        "X-Identity-Status": "Confirmed", "X-Roles": "admin,member,reader",
        "X-Project-Id": "admin", "X-User-Id": "admin"})
    stores = {s["id"]: s for s in req.get_response(app).json["stores"]}
    assert stores["http"]["properties"] == {}
    assert stores["default"]["properties"] == {
        "data_dir": f"{tmp_path}/images", "chunk_size": 65536, "thin_provisioning": False,
    }
