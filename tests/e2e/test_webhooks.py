"""Webhooks end to end: signed deliveries in each caller's dialect, retries recorded per
attempt, replay, the SSRF guard on callback URLs, and tasks never waiting on a webhook."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from mediagate.client import WebhookVerificationError, verify_webhook
from tests.helpers import Server, cli, free_port, wait_done


class Receiver:
    """A callback endpoint: records each POST; answers 500 ``fail`` times, or hangs."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.fail = 0
        self.hang_s = 0.0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.got.append(({k: v for k, v in self.headers.items()}, body))
                if owner.hang_s:
                    time.sleep(owner.hang_s)
                status = 500 if owner.fail > 0 else 204
                owner.fail -= 1
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.http = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 30) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        while len(self.got) < count:
            assert time.monotonic() < deadline, f"{len(self.got)} of {count} webhooks arrived"
            time.sleep(0.05)
        return self.got


@pytest.fixture(scope="module")
def hooked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(
        tmp_path_factory.mktemp("hooks"), latency=0.2, MEDIAGATE_WEBHOOK_FIRST_RETRY_S="0.3"
    ).start()
    yield srv
    srv.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.http.shutdown()


def key_and_secret(server: Server) -> tuple[str, str]:
    key = server.key()
    secret = requests.post(
        server.url + "/v1/webhooks/secret", headers={"Authorization": key}, timeout=10
    ).json()["webhook_secret"]
    assert secret.startswith("whsec_")
    return key, secret


def test_signed_delivery_in_the_gptunnel_shape(hooked: Server, receiver: Receiver) -> None:
    key, secret = key_and_secret(hooked)
    made = requests.post(
        hooked.url + "/v1/media/create",
        headers={"Authorization": key},
        json={"model": "seedream-3", "prompt": "hook", "callback_url": receiver.url},
        timeout=10,
    ).json()
    headers, body = receiver.wait(1)[0]
    event = verify_webhook(secret, headers, body)
    assert event["id"] == made["id"] and event["status"] == "done" and event["code"] == 0
    assert requests.get(event["url"], timeout=10).status_code == 200
    assert headers["webhook-id"].startswith("msg_")
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret, headers, body.replace(b"done", b"fail"))
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret, headers, body, now=time.time() + 3600)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(key_and_secret(hooked)[1], headers, body)  # another key's secret


@pytest.fixture
def slow(tmp_path: Path) -> Iterator[Server]:
    """A sandbox whose jobs run 60 s: a task is still running when the test cancels it,
    however fast the machine renders."""
    srv = Server(tmp_path / "slow", latency=60).start()
    yield srv
    srv.stop()


def test_a_cancel_is_delivered_at_once(slow: Server, receiver: Receiver) -> None:
    """The sender sleeps until a delivery is queued: a cancel's delivery wakes it."""
    key, secret = key_and_secret(slow)
    made = requests.post(
        slow.url + "/v1/media/create",
        headers={"Authorization": key},
        json={"model": "glabs-veo-3-1-fast", "prompt": "hook", "callback_url": receiver.url},
        timeout=10,
    ).json()
    time.sleep(1.0)  # the sender has gone back to sleep
    started = time.monotonic()
    gone = requests.post(
        slow.url + "/v1/media/cancel",
        headers={"Authorization": key},
        json={"task_id": made["id"]},
        timeout=10,
    )
    assert gone.status_code == 200, gone.text
    headers, body = receiver.wait(1, timeout=10)[0]
    assert time.monotonic() - started < 3
    event = verify_webhook(secret, headers, body)
    assert event["id"] == made["id"] and event["status"] == "cancelled"


def test_each_dialect_gets_its_own_shape(hooked: Server, receiver: Receiver) -> None:
    key, secret = key_and_secret(hooked)
    auth = {"Authorization": f"Bearer {key}"}
    requests.post(
        hooked.url + "/v1/video/generations",
        headers=auth,
        timeout=10,
        json={
            "model": "veo-3.0-generate-preview",
            "prompt": "u",
            "duration_seconds": 4,
            "callback_url": receiver.url,
        },
    )
    requests.post(
        hooked.url + "/v1/videos",
        headers=auth,
        timeout=10,
        data={
            "model": "veo-3.0-generate-preview",
            "prompt": "o",
            "seconds": "4",
            "callback_url": receiver.url,
        },
    )
    bodies = [verify_webhook(secret, h, b) for h, b in receiver.wait(2)]
    unified = next(b for b in bodies if "data" in b)
    openai = next(b for b in bodies if b.get("object") == "video")
    assert unified["code"] == "success" and unified["data"]["status"] == "succeeded"
    assert unified["data"]["url"].startswith(hooked.url)
    assert openai["status"] == "completed" and openai["seconds"] == "4"


def test_failures_retry_with_every_attempt_recorded_and_replay(
    hooked: Server, receiver: Receiver
) -> None:
    key, secret = key_and_secret(hooked)
    receiver.fail = 2
    made = requests.post(
        hooked.url + "/v1/media/create",
        headers={"Authorization": key},
        json={"model": "seedream-3", "prompt": "retry", "callback_url": receiver.url},
        timeout=10,
    ).json()
    got = receiver.wait(3)
    assert len({h["webhook-id"] for h, _ in got}) == 1  # the same message, delivered again
    deadline = time.monotonic() + 10
    while True:
        listed = requests.get(
            hooked.url + "/v1/webhooks/deliveries",
            params={"task_id": made["id"]},
            headers={"Authorization": key},
            timeout=10,
        ).json()["data"]
        if listed and listed[0]["status"] == "delivered":
            break
        assert time.monotonic() < deadline, listed
        time.sleep(0.05)
    delivery = listed[0]
    assert delivery["attempts"] == 3 and delivery["event"] == "task.succeeded"
    detail = requests.get(
        hooked.url + f"/v1/webhooks/deliveries/{delivery['id']}",
        headers={"Authorization": key},
        timeout=10,
    ).json()
    assert [a["status_code"] for a in detail["attempts"]] == [500, 500, 204]
    other = hooked.key()
    assert (
        requests.post(
            hooked.url + f"/v1/webhooks/deliveries/{delivery['id']}/replay",
            headers={"Authorization": other},
            timeout=10,
        ).status_code
        == 404
    )
    replayed = requests.post(
        hooked.url + f"/v1/webhooks/deliveries/{delivery['id']}/replay",
        headers={"Authorization": key},
        timeout=10,
    )
    assert replayed.status_code == 200
    assert verify_webhook(secret, *receiver.wait(4)[3])["id"] == made["id"]
    assert delivery["id"] in cli("webhooks", "list", "--task", made["id"], data_dir=hooked.data_dir)


def test_a_hanging_receiver_does_not_hold_up_tasks(hooked: Server, receiver: Receiver) -> None:
    key, _ = key_and_secret(hooked)
    receiver.hang_s = 8
    first = requests.post(
        hooked.url + "/v1/media/create",
        headers={"Authorization": key},
        json={"model": "seedream-3", "prompt": "a", "callback_url": receiver.url},
        timeout=10,
    ).json()
    receiver.wait(1)
    started = time.monotonic()
    second = requests.post(
        hooked.url + "/v1/media/create",
        headers={"Authorization": key},
        json={"model": "seedream-3", "prompt": "b"},
        timeout=10,
    ).json()
    assert wait_done(hooked.url, key, second["id"])["status"] == "done"
    assert time.monotonic() - started < 5
    assert wait_done(hooked.url, key, first["id"])["status"] == "done"


PRIVATE_CALLBACKS = [
    "http://127.0.0.1:{port}/hook",
    "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11:{port}/hook",  # fullwidth digits
    "http://127\u30020\u30020\u30021:{port}/hook",  # ideographic full stops
    "http://\U0001d7cf\U0001d7d0\U0001d7d5.0.0.1:{port}/hook",  # mathematical digits
    "http://2130706433:{port}/hook",  # one decimal number
    "http://0x7f.1:{port}/hook",
    "http://[::ffff:127.0.0.1]:{port}/hook",
    "http://[::127.0.0.1]:{port}/hook",  # IPv4-compatible
    "http://[64:ff9b::7f00:1]:{port}/hook",  # NAT64
    "http://[2002:7f00:1::]:{port}/hook",  # 6to4
    "http://localhost:{port}/hook",
    "http://hooks.localhost:{port}/hook",
    "http://10.0.0.5/hook",
]


def test_private_callback_urls_are_refused_at_create_in_each_dialect(
    tmp_path: Path, receiver: Receiver
) -> None:
    srv = Server(tmp_path, latency=0.1, MEDIAGATE_WEBHOOK_ALLOW_PRIVATE="0").start()
    try:
        key = srv.key()
        auth = {"Authorization": key}
        video = "veo-3.0-generate-preview"
        cases = [("/v1/media/create", "seedream-3", "ftp://x")]
        cases += [
            ("/v1/media/create", "seedream-3", t.format(port=receiver.port))
            for t in PRIVATE_CALLBACKS
        ]
        cases += [
            ("/v1/video/generations", video, receiver.url),
            ("/v1/videos", video, receiver.url),
        ]
        # The images endpoints answer in the response: a callback is refused, never ignored.
        cases += [("/v1/images/generations", "seedream-3", "https://example.com/h")]
        for path, model, url in cases:
            got = requests.post(
                srv.url + path,
                headers=auth,
                json={"model": model, "prompt": "x", "callback_url": url},
                timeout=10,
            )
            assert got.status_code == 400 and "callback_url" in got.text, (path, url, got.text)
            if path != "/v1/video/generations":  # the unified dialect has its own envelope
                assert got.json()["error"]["param"] == "callback_url"
            if url.startswith("http://") and "example" not in url:
                assert "private" in got.text, url
        assert srv.rows("SELECT count(*) FROM tasks") == [(0,)]  # nothing was made
        # A name that only resolves to a private address passes create, and its delivery
        # fails at once, with the reason, and is never retried.
        made = requests.post(
            srv.url + "/v1/media/create",
            headers=auth,
            json={
                "model": "seedream-3",
                "prompt": "x",
                "callback_url": f"http://{socket.gethostname()}:{receiver.port}/hook",
            },
            timeout=10,
        ).json()
        deadline = time.monotonic() + 15
        while True:
            listed = requests.get(
                srv.url + "/v1/webhooks/deliveries", headers=auth, timeout=10
            ).json()["data"]
            if listed and listed[0]["attempts"]:
                break
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        srv.stop()
    assert "refused" in listed[0]["last_error"] and listed[0]["task_id"] == made["id"]
    assert listed[0]["status"] == "failed" and listed[0]["next_attempt_at"] is None
    assert receiver.got == []  # nothing private was ever contacted


def test_hanging_receivers_of_one_key_do_not_delay_another_keys_delivery(
    tmp_path: Path,
) -> None:
    """32 callbacks of one key hang; another key's delivery still arrives at once (it took
    40 s when deliveries went in batches of 16 with a 15 s timeout each)."""
    hanging, quick = Receiver(), Receiver()
    hanging.hang_s = 20
    srv = Server(tmp_path, latency=0.05).start()
    try:
        abuser, victim = srv.key(), srv.key()
        for i in range(32):
            requests.post(
                srv.url + "/v1/media/create",
                headers={"Authorization": abuser},
                json={"model": "seedream-3", "prompt": f"h{i}", "callback_url": hanging.url},
                timeout=10,
            ).raise_for_status()
        hanging.wait(4, timeout=30)  # the abuser's deliveries are hanging now
        made = requests.post(
            srv.url + "/v1/media/create",
            headers={"Authorization": victim},
            json={"model": "seedream-3", "prompt": "v", "callback_url": quick.url},
            timeout=10,
        ).json()
        started = time.monotonic()
        quick.wait(1, timeout=30)
        took = time.monotonic() - started
        print(f"\nanother key's delivery, beside 32 hanging receivers: {took:.2f} s")
        assert made["id"].encode() in quick.got[0][1]
        assert took < 5, f"the other key's delivery took {took:.1f} s"
        assert len(hanging.got) <= 4  # one key never has more than its share in flight
    finally:
        srv.stop()
        hanging.http.shutdown()
        quick.http.shutdown()


def test_midjourney_notify_hook_hears_every_status_change(
    hooked: Server, receiver: Receiver
) -> None:
    key, secret = key_and_secret(hooked)
    made = requests.post(
        hooked.url + "/mj/submit/imagine",
        json={"prompt": "a heron", "notifyHook": receiver.url, "state": "mine"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    ).json()
    assert made["code"] == 1
    deadline = time.monotonic() + 30
    while not any(b"SUCCESS" in body for _, body in receiver.got):
        assert time.monotonic() < deadline, receiver.got
        time.sleep(0.05)
    events = [verify_webhook(secret, h, b) for h, b in receiver.got]
    assert all(e["id"] == made["result"] and e["state"] == "mine" for e in events)
    statuses = [e["status"] for e in events]
    assert statuses[-1] == "SUCCESS" and len(statuses) >= 2, statuses  # not only the end
    assert statuses[0] in ("SUBMITTED", "IN_PROGRESS"), statuses
    assert events[-1]["imageUrl"] and events[-1]["buttons"]
