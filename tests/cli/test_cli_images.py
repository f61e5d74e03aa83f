"""Image metadata commands, in-process on SQLite + file store: create, list, show, update..."""

from __future__ import annotations

from tests.cli.cli_harness import Cli


def test_create_shows_the_new_image_as_a_table(cli: Cli) -> None:
    result = cli.ok("image", "create", "--name", "cirros", "--disk-format", "qcow2",
                    "--container-format", "bare", "--property", "os_distro=cirros")
    lines = result.out.splitlines()
    assert lines[0].startswith("+") and "| Property" in lines[1]
    assert any("| name " in ln and "cirros" in ln for ln in lines)
    assert any("| os_distro " in ln and "cirros" in ln for ln in lines)
    assert any("| status " in ln and "queued" in ln for ln in lines)


def test_create_with_every_attribute_option(cli: Cli) -> None:
    image = cli.create(
        "--id", "6d7e6f62-3a0e-4b6a-9d6b-1f2a3b4c5d6e", "--name", "full", "--disk-format", "raw",
        "--container-format", "bare", "--visibility", "private", "--protected", "True",
        "--hidden", "false", "--min-disk", "2", "--min-ram", "512", "--tags", "a", "b",
        "--property", "k=v=w",
    )
    assert image["id"] == "6d7e6f62-3a0e-4b6a-9d6b-1f2a3b4c5d6e"
    assert (image["visibility"], image["protected"], image["os_hidden"]) == ("private", True,
                                                                             False)
    assert (image["min_disk"], image["min_ram"]) == (2, 512)
    assert image["tags"] == ["a", "b"]
    assert image["k"] == "v=w"
    assert image["owner"] == "admin"  # the local admin's default project


def test_show_json_and_value_columns(cli: Cli) -> None:
    image = cli.create("--name", "one")
    shown = cli.ok("image", "show", image["id"], "-f", "json").json()
    assert shown["id"] == image["id"] and shown["name"] == "one"
    value = cli.ok("image", "show", image["id"], "-f", "value", "-c", "name", "-c", "status")
    assert value.out == "one queued\n"


def test_list_filters_sorts_and_limits(cli: Cli) -> None:
    for name, fmt, size_tag in (("b", "qcow2", "x"), ("a", "raw", "y"), ("c", "qcow2", "x")):
        cli.create("--name", name, "--disk-format", fmt, "--container-format", "bare",
                   "--tags", size_tag, "--property", f"flavour={name}")
    names = [i["name"] for i in cli.ok("image", "list", "-f", "json", "--sort-key", "name",
                                       "--sort-dir", "asc").json()]
    assert names == ["a", "b", "c"]
    assert [i["name"] for i in cli.ok("image", "list", "-f", "json", "--sort", "name:desc",
                                      "--limit", "2").json()] == ["c", "b"]
    qcow = cli.ok("image", "list", "-f", "json", "--property-filter", "disk_format=qcow2",
                  "--sort-key", "name", "--sort-dir", "asc").json()
    assert [i["name"] for i in qcow] == ["b", "c"]
    tagged = cli.ok("image", "list", "-f", "value", "-c", "name", "--tag", "y").out
    assert tagged == "a\n"
    by_property = cli.ok("image", "list", "-f", "value", "-c", "name",
                         "--property-filter", "flavour=c").out
    assert by_property == "c\n"
    multi = cli.ok("image", "list", "-f", "value", "-c", "name", "--sort-key", "name",
                   "--sort-dir", "asc", "--property-filter", "name=in:a,c").out
    assert multi == "a\nc\n"


def test_list_pages_through_everything(cli: Cli) -> None:
    for n in range(5):
        cli.create("--name", f"img{n}")
    listed = cli.ok("image", "list", "-f", "json", "--page-size", "2").json()
    assert sorted(i["name"] for i in listed) == [f"img{n}" for n in range(5)]


def test_list_table_has_the_usual_columns(cli: Cli) -> None:
    cli.create("--name", "tabled")
    out = cli.ok("image", "list").out.splitlines()
    assert [c.strip() for c in out[1].strip("|").split("|")] == ["ID", "Name", "Status"]
    long_header = cli.ok("image", "list", "--long").out.splitlines()[1]
    assert "Disk Format" in long_header and "Visibility" in long_header


def test_list_visibility_filter(cli: Cli) -> None:
    cli.create("--name", "pub", "--visibility", "public")
    cli.create("--name", "priv", "--visibility", "private")
    public = cli.ok("image", "list", "-f", "value", "-c", "name", "--visibility", "public").out
    assert public == "pub\n"


def test_update_replaces_adds_and_removes(cli: Cli) -> None:
    image = cli.create("--name", "old", "--property", "gone=1")
    updated = cli.ok("image", "update", image["id"], "--name", "new", "--min-ram", "64",
                     "--property", "added=yes", "--remove-property", "gone", "-f",
                     "json").json()
    assert updated["name"] == "new" and updated["min_ram"] == 64
    assert updated["added"] == "yes" and "gone" not in updated


def test_delete_one_and_many(cli: Cli) -> None:
    ids = [cli.create("--name", f"d{n}")["id"] for n in range(3)]
    assert cli.ok("image", "delete", ids[0]).out == ""
    assert cli("image", "show", ids[0]).code == 1
    assert cli.ok("image", "delete", ids[1], ids[2]).code == 0
    assert cli.ok("image", "list", "-f", "json").json() == []


def test_delete_reports_each_failure_and_deletes_the_rest(cli: Cli) -> None:
    keep = cli.create("--name", "p", "--protected", "true")["id"]
    drop = cli.create("--name", "q")["id"]
    result = cli("image", "delete", keep, drop)
    assert result.code == 1
    assert f"{keep}: Forbidden" in result.err and "1 of 2 images" in result.err
    assert cli("image", "show", drop).code == 1
    assert cli("image", "show", keep).code == 0


def test_members_see_shared_images_only_after_accepting(cli: Cli) -> None:
    image = cli.create("--name", "shared", "--visibility", "shared")
    cli.ok("image", "member", "add", image["id"], "other")
    as_other = ("--os-project-id", "other")
    assert cli.ok("image", "list", "-f", "json", *as_other).json() == []
    member = cli.ok("image", "member", "set", image["id"], "other", "accepted", "-f", "json",
                    *as_other).json()
    assert member["status"] == "accepted"
    listed = cli.ok("image", "list", "-f", "value", "-c", "id", *as_other).out
    assert listed == f"{image['id']}\n"
    members = cli.ok("image", "member", "list", image["id"], "-f", "json").json()
    assert [(m["member_id"], m["status"]) for m in members] == [("other", "accepted")]
    shown = cli.ok("image", "member", "show", image["id"], "other", "-f", "json").json()
    assert shown["image_id"] == image["id"]
    cli.ok("image", "member", "remove", image["id"], "other")
    assert cli.ok("image", "member", "list", image["id"], "-f", "json").json() == []


def test_tags_add_and_remove(cli: Cli) -> None:
    image = cli.create("--name", "tagged")
    added = cli.ok("image", "tag", "add", image["id"], "x", "y", "-f", "json").json()
    assert added["tags"] == ["x", "y"]
    removed = cli.ok("image", "tag", "remove", image["id"], "x", "-f", "json").json()
    assert removed["tags"] == ["y"]
    missing = cli("image", "tag", "remove", image["id"], "nope")
    assert missing.code == 1 and missing.err.startswith("glance-domain: error: Not found")


def test_a_non_admin_project_cannot_see_another_projects_private_image(cli: Cli) -> None:
    image = cli.create("--name", "mine", "--visibility", "private")
    result = cli("image", "show", image["id"], "--os-project-id", "someone-else")
    assert result.code == 1
    assert result.err.startswith(("glance-domain: error: Not found",
                                  "glance-domain: error: Forbidden"))
    own = cli.create("--name", "theirs", "--os-project-id", "p2", "--os-roles", "member,reader")
    assert own["owner"] == "p2"
