"""Live keys end to end: a real server whose vendors are the fakes (their base URLs are
settings). Each seed model runs on its first route, then again with that route down or
failing after it accepted the task, and ends on the next provider with the media stored
by mediagate. A content rejection never moves to another route."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fakes.ark import FakeArk
from tests.fakes.google import FakeGoogle
from tests.fakes.openai import FakeOpenAI
from tests.fakes.relays import FakeGptunnel, FakeNewApi
from tests.helpers import Server, cli
from tests.media import probe


class Vendors:
    def __init__(self) -> None:
        self.google = FakeGoogle(polls=2).start()
        self.ark = FakeArk(polls=2).start()
        self.openai = FakeOpenAI().start()
        self.gptunnel = FakeGptunnel(polls=2).start()
        self.newapi = FakeNewApi(polls=2).start()

    def env(self) -> dict[str, str]:
        return {
            "MEDIAGATE_UPSTREAM_POLL_S": "0.05",
            "MEDIAGATE_GEMINI_API_KEY": self.google.api_key,
            "MEDIAGATE_GEMINI_BASE_URL": self.google.url,
            "MEDIAGATE_VERTEX_ACCESS_TOKEN": self.google.token,
            "MEDIAGATE_VERTEX_PROJECT": "proj",
            "MEDIAGATE_VERTEX_BASE_URL": self.google.url,
            "MEDIAGATE_ARK_API_KEY": self.ark.api_key,
            "MEDIAGATE_ARK_BASE_URL": self.ark.url + "/api/v3",
            "MEDIAGATE_OPENAI_API_KEY": self.openai.api_key,
            "MEDIAGATE_OPENAI_BASE_URL": self.openai.url + "/v1",
            "MEDIAGATE_GPTUNNEL_API_KEY": self.gptunnel.api_key,
            "MEDIAGATE_GPTUNNEL_BASE_URL": self.gptunnel.url,
            "MEDIAGATE_NEWAPI_API_KEY": self.newapi.api_key,
            "MEDIAGATE_NEWAPI_BASE_URL": self.newapi.url,
        }

    def stop(self) -> None:
        for fake in (self.google, self.ark, self.openai, self.gptunnel, self.newapi):
            fake.stop()


@pytest.fixture(scope="module")
def vendors() -> Iterator[Vendors]:
    v = Vendors()
    yield v
    v.stop()


@pytest.fixture(scope="module")
def live(
    vendors: Vendors, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, str]]:
    server = Server(tmp_path_factory.mktemp("live"), **vendors.env()).start()
    admin = {"Authorization": server.key("admin")}
    acct = requests.post(
        server.url + "/v1/admin/accounts", json={"name": "live"}, headers=admin, timeout=10
    ).json()
    requests.post(
        server.url + f"/v1/admin/accounts/{acct['id']}/topup",
        json={"amount": 1000},
        headers=admin,
        timeout=10,
    )
    key = requests.post(
        server.url + "/v1/admin/keys",
        headers=admin,
        timeout=10,
        json={"mode": "live", "account_id": acct["id"]},
    ).json()["key"]
    yield server, key
    server.stop()


def run(server: Server, key: str, **body: Any) -> dict[str, Any]:
    made = requests.post(
        server.url + "/v1/media/create", json=body, headers={"Authorization": key}, timeout=10
    )
    assert made.status_code == 200, made.text
    deadline = time.monotonic() + 60
    while True:
        task: dict[str, Any] = requests.get(
            server.url + "/v1/media/result",
            params={"task_id": made.json()["id"]},
            headers={"Authorization": key},
            timeout=10,
        ).json()
        if task["status"] in ("done", "failed"):
            return task
        assert time.monotonic() < deadline, task
        time.sleep(0.05)


def stored(task: dict[str, Any], server: Server) -> bytes:
    assert task["status"] == "done", task
    assert task["url"].startswith(server.url + "/v1/files/")  # mediagate's own link
    got = requests.get(task["url"], timeout=10)
    assert got.status_code == 200
    return got.content


TEXT_KINDS = ("text", "embedding", "speech", "transcription", "realtime")


def test_every_model_is_live(live: tuple[Server, str]) -> None:
    server, _ = live
    models = requests.get(server.url + "/v1/models", timeout=10).json()["data"]
    # OpenAI's names for these, and text models (relayed, routed to text APIs) apart
    models = [m for m in models if not m.get("alias_of") and m["kind"] not in TEXT_KINDS]
    seeds = [m for m in models if not m["family"]]  # the vendors of these fakes
    assert len(seeds) == 5 and all(m["live"] for m in seeds)
    # The families run here through new-api's key (its /mj, /suno, /runwayml ... routes);
    # CogView's only route is Zhipu's own API, and Viggle's is Viggle's own: this deployment
    # has no key for either.
    own_only = ("cogview", "viggle-")
    assert all(m["live"] for m in models if not m["id"].startswith(own_only))
    assert not any(m["live"] for m in models if m["id"].startswith(own_only))


def test_seedream_on_ark_then_gptunnel_when_ark_does_not_know_the_model(
    live: tuple[Server, str], vendors: Vendors
) -> None:
    server, key = live
    task = run(server, key, model="seedream-3", prompt="a fox", ar="16:9")
    assert task["provider"] == "ark" and probe(stored(task, server)).format == "jpeg"
    vendors.ark.fail_next(404, {"error": {"code": "InvalidEndpointOrModel.NotFound"}})
    task = run(server, key, model="seedream-3", prompt="a fox again", ar="16:9")
    assert task["provider"] == "gptunnel" and probe(stored(task, server)).format == "webp"


def test_imagen_on_vertex_then_gptunnel_after_503s(
    live: tuple[Server, str], vendors: Vendors
) -> None:
    server, key = live
    task = run(server, key, model="google-imagen-3", prompt="a lake", ar="4:3")
    assert task["provider"] == "vertex" and probe(stored(task, server)).format == "png"
    vendors.google.fail_next(503, {"error": {"code": 503, "status": "UNAVAILABLE"}}, times=3)
    task = run(server, key, model="google-imagen-3", prompt="a lake again", ar="4:3")
    assert task["provider"] == "gptunnel"


def test_veo_fast_fails_over_after_vertex_accepted_it(
    live: tuple[Server, str], vendors: Vendors
) -> None:
    server, key = live
    task = run(server, key, model="glabs-veo-3-1-fast", prompt="a street", ar="9:16")
    assert task["provider"] == "vertex" and probe(stored(task, server)).codec == "h264"
    before = len(vendors.gptunnel.calls("POST", "/v1/media/create"))
    task = run(
        server, key, model="glabs-veo-3-1-fast", prompt="[fake:op-error] a street", ar="9:16"
    )
    assert task["provider"] == "gptunnel" and probe(stored(task, server)).codec == "h264"
    assert len(vendors.gptunnel.calls("POST", "/v1/media/create")) == before + 1


def test_seedance_on_ark_then_gptunnel_after_an_internal_failure(
    live: tuple[Server, str], vendors: Vendors
) -> None:
    server, key = live
    task = run(server, key, model="seedance-1-lite-480P-5s", prompt="a dog", ar="9:16")
    assert task["provider"] == "ark" and probe(stored(task, server)).codec == "h264"
    task = run(server, key, model="seedance-1-lite-480P-5s", prompt="[fake:internal] a dog")
    assert task["provider"] == "gptunnel" and stored(task, server)


def test_veo3_on_vertex_then_newapi_when_rate_limited(
    live: tuple[Server, str], vendors: Vendors
) -> None:
    server, key = live
    task = run(server, key, model="veo-3.0-generate-preview", prompt="rain", duration_seconds=4)
    assert task["provider"] == "vertex" and probe(stored(task, server)).codec == "h264"
    vendors.google.fail_next(
        429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}, times=3, Retry_After="0"
    )
    task = run(server, key, model="veo-3.0-generate-preview", prompt="rain again")
    assert task["provider"] == "newapi" and probe(stored(task, server)).codec == "h264"


def test_content_rejection_does_not_move_and_costs_nothing(
    live: tuple[Server, str], vendors: Vendors
) -> None:
    server, key = live
    before = requests.get(server.url + "/v1/balance", headers={"Authorization": key}, timeout=10)
    creates = len(vendors.gptunnel.calls("POST", "/v1/media/create"))
    task = run(server, key, model="seedance-1-lite-480P-5s", prompt="[fake:rejected] a dog")
    assert task["status"] == "failed" and task["error_code"] == "content_rejected"
    assert task["provider"] == "ark" and "OutputVideoSensitiveContentDetected" in task["error"]
    assert len(vendors.gptunnel.calls("POST", "/v1/media/create")) == creates
    after = requests.get(server.url + "/v1/balance", headers={"Authorization": key}, timeout=10)
    assert after.json()["balance_micros"] == before.json()["balance_micros"]


def test_routes_file_of_your_own(vendors: Vendors, tmp_path: Path) -> None:
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[models."seedream-3".routes]]\nprovider = "openai"\nmodel = "gpt-image-1"\n'
        'cost = "0.02"\n'
    )
    server = Server(
        tmp_path / "d",
        MEDIAGATE_ROUTES_FILE=str(routes),
        MEDIAGATE_SANDBOX_LIVE="0",
        **{k: v for k, v in vendors.env().items() if "OPENAI" in k or "POLL" in k},
    ).start()
    try:
        key = server.key("live", account="acct_default")
        cli("accounts", "topup", "acct_default", "10", data_dir=server.data_dir)
        models = {
            m["id"]: m for m in requests.get(server.url + "/v1/models", timeout=10).json()["data"]
        }
        assert models["seedream-3"]["live"] and not models["google-imagen-3"]["live"]
        task = run(server, key, model="seedream-3", prompt="a cat", ar="16:9")
        assert task["provider"] == "openai" and probe(stored(task, server)).format == "png"
        admin = {"Authorization": server.key("admin")}
        usage = requests.get(
            server.url + "/v1/admin/accounts/acct_default/usage",
            params={"group_by": "provider"},
            headers=admin,
            timeout=10,
        ).json()
        assert usage["data"] == [
            {"group": "openai", "tasks": 1, "succeeded": 1, "failed": 0, "amount": 0.03,
             "amount_micros": 30_000, "cost_micros": 20_000, "margin_micros": 10_000}
        ]  # fmt: skip
        # The answer describes the stored file as it is (the fake's PNG is 1/8 of the size
        # asked for), not as the catalogue's usual webp at the catalogue's size.
        image = requests.post(
            server.url + "/v1/images/generations",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "seedream-3", "prompt": "a dog", "size": "1024x1024"},
            timeout=30,
        ).json()
        png = probe(base64.b64decode(image["data"][0]["b64_json"]))
        assert image["output_format"] == "png" and png.format == "png"
        assert image["size"] == f"{png.width}x{png.height}" == "128x128"
        mine = requests.get(server.url + "/v1/usage", headers={"Authorization": key}, timeout=10)
        assert "cost_micros" not in mine.json()["data"][0]  # vendor costs are the admin's
        refused = requests.post(
            server.url + "/v1/media/create",
            headers={"Authorization": key},
            json={"model": "google-imagen-3", "prompt": "x"},
            timeout=10,
        )
        assert (
            refused.status_code == 503 and "vertex, gptunnel, gemini" in refused.json()["message"]
        )
    finally:
        server.stop()
