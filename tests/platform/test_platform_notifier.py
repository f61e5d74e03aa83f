"""Notifier adapters: logging (default), filtering, oslo.messaging over RabbitMQ."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from glance_domain.context import RequestContext
from glance_domain.ports import Notifier
from glance_domain_adapters import bootstrap
from glance_domain_adapters.notifier import FilteringNotifier, LoggingNotifier, make_notifier

CTX = RequestContext(user_id="u1", project_id="p1", roles=("member",))


def test_logging_notifier_is_the_default(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    notifier = make_notifier(bootstrap.load_config(["--config-dir", str(tmp_path)]))
    assert isinstance(notifier, LoggingNotifier)
    assert isinstance(notifier, Notifier)
    with caplog.at_level(logging.INFO, logger="glance_domain.notifications"):
        notifier.notify(CTX, "image.create", {"id": "i1", "name": "cirros"})
    (record,) = caplog.records
    body = json.loads(record.getMessage())
    assert body["event_type"] == "image.create"
    assert body["publisher_id"] == "image.localhost"
    assert body["payload"] == {"id": "i1", "name": "cirros"}
    assert (body["project_id"], body["request_id"]) == ("p1", CTX.request_id)


def test_disabled_notifications_are_dropped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    conf_file = tmp_path / "glance-api.conf"
    conf_file.write_text("[DEFAULT]\ndisabled_notifications = image.update, image.member\n")
    notifier = make_notifier(bootstrap.load_config(config_files=[str(conf_file)]))
    assert isinstance(notifier, FilteringNotifier)
    with caplog.at_level(logging.INFO, logger="glance_domain.notifications"):
        for event in ("image.update", "image.member.create", "image.delete"):
            notifier.notify(CTX, event, {})
    events = [json.loads(r.getMessage())["event_type"] for r in caplog.records]
    assert events == ["image.member.create", "image.delete"]


def test_group_disables_every_event_of_the_group() -> None:
    seen: list[str] = []

    class Recorder:
        def notify(self, context: Any, event_type: str, payload: Any, *, level: str = "INFO"
                   ) -> None:
            seen.append(event_type)

    notifier = FilteringNotifier(Recorder(), ["image"])
    notifier.notify(CTX, "image.create", {})
    notifier.notify(CTX, "task.create", {})
    assert seen == ["task.create"]


def _rabbit_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=1):
            return True
    except OSError:
        return False


def test_oslo_messaging_notifier_over_rabbitmq(tmp_path: Path) -> None:
    if not _rabbit_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail("RabbitMQ is not reachable on 127.0.0.1:5672")
        pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672")
    import oslo_messaging

    topic = "gd-test-" + uuid.uuid4().hex[:8]
    conf_file = tmp_path / "glance-api.conf"
    conf_file.write_text(
        "[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:5672/\n"
        f"[oslo_messaging_notifications]\ndriver = messagingv2\ntopics = {topic}\n"
    )
    conf = bootstrap.load_config(config_files=[str(conf_file)])
    notifier = make_notifier(conf)
    assert type(notifier).__name__ == "MessagingNotifier"

    received: list[tuple[str, str, dict[str, Any]]] = []
    done = threading.Event()

    class Endpoint:
        def info(self, ctxt: Any, publisher_id: str, event_type: str, payload: Any,
                 metadata: Any) -> None:
            received.append((publisher_id, event_type, payload))
            done.set()

    transport = oslo_messaging.get_notification_transport(conf)
    listener = oslo_messaging.get_notification_listener(
        transport, [oslo_messaging.Target(topic=topic)], [Endpoint()], executor="threading",
    )
    listener.start()
    try:
        notifier.notify(CTX, "image.create", {"id": "i1"})
        assert done.wait(20), "no notification received from RabbitMQ"
    finally:
        listener.stop()
        listener.wait()
        notifier.close()  # type: ignore[attr-defined]
        transport.cleanup()
    assert received == [("image.localhost", "image.create", {"id": "i1"})]
