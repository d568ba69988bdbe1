"""Channels against the vendor fakes: two Ark keys as channels of one provider. The higher
priority serves; when it answers 5xx its tasks fail over to the other channel, it disables
itself after enough failures, is probed with a cheap real call, and is enabled again once it
answers; every change is an event. The admin API manages channels and tests them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.fakes.ark import FakeArk
from tests.helpers import Server


@pytest.fixture(scope="module")
def arks() -> Iterator[tuple[FakeArk, FakeArk]]:
    a, b = FakeArk(api_key="ark-a").start(), FakeArk(api_key="ark-b").start()
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "MEDIAGATE_UPSTREAM_POLL_S": "0.05",
        "MEDIAGATE_CHANNEL_PROBE_S": "1",
        "MEDIAGATE_CHANNEL_REFRESH_S": "0.3",
    }
    server = Server(tmp_path_factory.mktemp("channels"), **env).start()
    yield server
    server.stop()


def admin(server: Server) -> dict[str, str]:
    return {"Authorization": server.key("admin")}


def make(server: Server, key: str, prompt: str) -> dict[str, Any]:
    made = requests.post(
        server.url + "/v1/media/create",
        json={"model": "seedream-3", "prompt": prompt},
        headers={"Authorization": key},
        timeout=10,
    ).json()
    deadline = time.monotonic() + 60
    while True:
        got: dict[str, Any] = requests.get(
            server.url + "/v1/media/result",
            params={"task_id": made["id"]},
            headers={"Authorization": key},
            timeout=10,
        ).json()
        if got["status"] in ("done", "failed"):
            return got
        assert time.monotonic() < deadline
        time.sleep(0.05)


def add(server: Server, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    made = requests.post(
        server.url + "/v1/admin/channels",
        json={"provider": "ark", **body},
        headers=headers,
        timeout=10,
    )
    assert made.status_code == 201, made.text
    out: dict[str, Any] = made.json()
    return out


def channel(server: Server, headers: dict[str, str], channel_id: str) -> dict[str, Any]:
    found = requests.get(server.url + "/v1/admin/channels", headers=headers, timeout=10).json()
    one: dict[str, Any] = next(c for c in found if c["id"] == channel_id)
    return one


def test_failover_auto_disable_probe_and_enable(
    gateway: Server, arks: tuple[FakeArk, FakeArk]
) -> None:
    a, b = arks
    headers = admin(gateway)
    base = "/api/v3"
    first = add(gateway, headers, api_key="ark-a", base_url=a.url + base, priority=10, name="A")
    second = add(gateway, headers, api_key="ark-b", base_url=b.url + base, priority=0, name="B")
    assert first["key"] == "••••"  # never the credential, nor a part of so short a one
    key = gateway.funded_live_key(50)
    done = make(gateway, key, "a fox")
    assert done["status"] == "done" and done["provider"] == f"ark@{first['id']}"  # by priority
    a.fail_next(500, {"error": {"code": "InternalServiceError", "message": "down"}}, times=40)
    for n in range(3):
        moved = make(gateway, key, f"a fox {n}")
        assert moved["status"] == "done", moved
        assert moved["provider"] == f"ark@{second['id']}"  # failed over to the other channel
    deadline = time.monotonic() + 10
    while channel(gateway, headers, first["id"])["enabled"]:
        assert time.monotonic() < deadline, "the failing channel stayed enabled"
        time.sleep(0.1)
    down = channel(gateway, headers, first["id"])
    assert down["auto_disabled_at"] and "failures" in down["reason"]
    after = make(gateway, key, "while A is down")
    assert after["provider"] == f"ark@{second['id']}"
    a.failures.clear()  # A recovers: the probe finds it answering
    deadline = time.monotonic() + 20
    while not channel(gateway, headers, first["id"])["enabled"]:
        assert time.monotonic() < deadline, "the recovered channel was not enabled again"
        time.sleep(0.2)
    events = requests.get(
        f"{gateway.url}/v1/admin/channels/{first['id']}/events", headers=headers, timeout=10
    ).json()
    kinds = [e["event"] for e in events]
    assert "auto_disabled" in kinds and "probe_ok" in kinds and "created" in kinds
    back = make(gateway, key, "A is back")
    assert back["provider"] == f"ark@{first['id']}"


def test_manage_and_test_channels(gateway: Server, arks: tuple[FakeArk, FakeArk]) -> None:
    _, b = arks
    headers = admin(gateway)
    made = add(gateway, headers, api_key="ark-b", base_url=b.url + "/api/v3", weight=3)
    tested = requests.post(
        f"{gateway.url}/v1/admin/channels/{made['id']}/test", headers=headers, timeout=10
    ).json()
    assert tested["ok"] is True
    wrong = add(gateway, headers, api_key="nope", base_url=b.url + "/api/v3", enabled=False)
    bad = requests.post(
        f"{gateway.url}/v1/admin/channels/{wrong['id']}/test", headers=headers, timeout=10
    ).json()
    assert bad["ok"] is False and "upstream_auth" in bad["detail"]
    off = requests.patch(
        f"{gateway.url}/v1/admin/channels/{wrong['id']}", json={"enabled": False},
        headers=headers, timeout=10,
    ).json()  # fmt: skip
    assert off["enabled"] is False and off["reason"] == "by hand"
    for body, field in (
        ({"provider": "nope", "api_key": "k"}, "provider"),
        ({"provider": "ark", "api_key": "k", "weight": -1}, "weight"),
        ({"provider": "ark", "api_key": "k", "priority": 5000}, "priority"),
    ):
        resp = requests.post(
            gateway.url + "/v1/admin/channels", json=body, headers=headers, timeout=10
        )
        assert resp.status_code == 400 and resp.json()["error"]["param"] == field, resp.text
    user_key = {"Authorization": gateway.key("test")}
    user = requests.get(gateway.url + "/v1/admin/channels", headers=user_key, timeout=10)
    assert user.status_code == 403


def test_the_cli_manages_channels(tmp_path: Any, arks: tuple[FakeArk, FakeArk]) -> None:
    from tests.helpers import cli

    _, b = arks
    data = tmp_path / "data"
    cli("init", "--data-dir", str(data), data_dir=data)
    made = cli(
        "channels", "add", "ark", "--api-key", "ark-b", "--base-url", b.url + "/api/v3",
        "--priority", "5", "--name", "cli", data_dir=data,
    ).strip()  # fmt: skip
    assert made.startswith("ch_")
    assert "ok" in cli("channels", "test", made, data_dir=data)
    assert "disabled" in cli("channels", "disable", made, data_dir=data)
    listed = cli("channels", "list", data_dir=data)
    assert made in listed and "by hand" in listed
    assert "disabled" in cli("channels", "events", made, data_dir=data)


def test_relayed_requests_fail_over_between_channels_and_count_toward_health(
    gateway: Server,
) -> None:
    """Chat on two OpenAI-compatible channels: the preferred one answers 5xx, each request
    moves to the other before anything reaches the caller, and the failing channel
    disables itself on the relay's failures alone (no task touched it)."""
    from tests.fakes.openai_text import FakeOpenAIText

    a, b = FakeOpenAIText(api_key="sk-a").start(), FakeOpenAIText(api_key="sk-b").start()
    try:
        headers = admin(gateway)
        first = add(gateway, headers, provider="openai", api_key="sk-a",
                    base_url=a.url + "/v1", priority=10)  # fmt: skip
        add(gateway, headers, provider="openai", api_key="sk-b", base_url=b.url + "/v1")
        key = gateway.funded_live_key(10)
        time.sleep(0.5)  # the channels reach the relay at the next refresh
        a.fail_next(500, {"error": {"message": "down", "type": "server_error"}}, times=40)
        for n in range(6):
            for stream in (False, True):
                resp = requests.post(
                    gateway.url + "/v1/chat/completions",
                    json={"model": "gpt-4o-mini", "stream": stream,
                          "messages": [{"role": "user", "content": f"hi {n}"}]},
                    headers={"Authorization": key}, timeout=10,
                )  # fmt: skip
                assert resp.status_code == 200, resp.text
                assert "w19" in resp.text
        assert a.calls("POST", "/v1/chat") and len(b.calls("POST", "/v1/chat")) == 12
        deadline = time.monotonic() + 10
        while channel(gateway, headers, first["id"])["enabled"]:
            assert time.monotonic() < deadline, "the failing text channel stayed enabled"
            time.sleep(0.1)
        deadline = time.monotonic() + 10
        while not (logged := gateway.rows("SELECT DISTINCT provider FROM requests")):
            assert time.monotonic() < deadline, "the requests were not logged"
            time.sleep(0.1)  # the log is written in batches
        assert {r[0].split("@")[0] for r in logged} == {"openai"}
    finally:
        a.stop()
        b.stop()
