"""Vendors in their own formats on live keys: the official SDK talks to mediagate, and
mediagate talks to the vendor's fake through its adapter; results are stored by us."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import lumaai
import pytest
import requests
import runwayml
import zhipuai
from runwayml.lib import polling

from tests.fakes.bfl import FakeBfl
from tests.fakes.ideogram import FakeIdeogram
from tests.fakes.kling import FakeKling
from tests.fakes.luma import FakeLuma
from tests.fakes.runway import FakeRunway
from tests.fakes.stability import FakeStability
from tests.fakes.vidu import FakeVidu
from tests.fakes.zhipu import FakeZhipu
from tests.helpers import Server

PNG = (  # 1x1, white
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGP4DwABAQEANl9ngAAAAABJRU5ErkJggg=="
)


class Fakes:
    def __init__(self) -> None:
        self.runway = FakeRunway(api_key="rw-live").start()
        self.luma = FakeLuma(api_key="luma-live").start()
        self.zhipu = FakeZhipu(api_key="zp-live").start()
        self.kling = FakeKling(access="ak-live", secret="sk-live").start()
        self.bfl = FakeBfl(api_key="bfl-live").start()
        self.stability = FakeStability(api_key="stab-live").start()
        self.vidu = FakeVidu(api_key="vidu-live").start()
        self.ideogram = FakeIdeogram(api_key="ideo-live").start()

    def stop(self) -> None:
        self.vidu.stop()
        self.ideogram.stop()
        self.stability.stop()
        self.bfl.stop()
        self.kling.stop()
        self.runway.stop()
        self.luma.stop()
        self.zhipu.stop()


@pytest.fixture(scope="module")
def fakes() -> Iterator[Fakes]:
    f = Fakes()
    yield f
    f.stop()


@pytest.fixture(scope="module")
def live(
    fakes: Fakes, tmp_path_factory: pytest.TempPathFactory, server: Server
) -> Iterator[tuple[Server, str]]:
    upstream_key = server.key("test")
    creds = {
        "runway": {"api_key": "rw-live", "base_url": fakes.runway.url},
        "luma": {"api_key": "luma-live", "base_url": fakes.luma.url},
        "zhipu": {"api_key": "zp-live", "base_url": fakes.zhipu.url},
        "kling": {"api_key": "ak-live", "secret_key": "sk-live", "base_url": fakes.kling.url},
        "bfl": {"api_key": "bfl-live", "base_url": fakes.bfl.url},
        "stability": {"api_key": "stab-live", "base_url": fakes.stability.url},
        "vidu": {"api_key": "vidu-live", "base_url": fakes.vidu.url},
        "ideogram": {"api_key": "ideo-live", "base_url": fakes.ideogram.url},
    }
    env = {
        "MEDIAGATE_UPSTREAM_POLL_S": "0.05",
        "MEDIAGATE_CREDENTIALS": json.dumps(creds),
        # new-api's /kling passthrough is the second Kling route; here the "new-api" is
        # another mediagate (the session's sandbox server), which speaks Kling's API too.
        "MEDIAGATE_NEWAPI_API_KEY": upstream_key,
        "MEDIAGATE_NEWAPI_BASE_URL": server.url,
    }
    gateway = Server(tmp_path_factory.mktemp("live-vendors"), **env).start()
    yield gateway, gateway.funded_live_key(100)
    gateway.stop()


def test_runway_sdk_to_mediagate_to_runway(
    live: tuple[Server, str], fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(polling, "POLL_TIME", 0.2)
    monkeypatch.setattr(polling, "POLL_JITTER", 0.1)
    server, key = live
    client = runwayml.RunwayML(api_key=key, base_url=server.url + "/runwayml", max_retries=0)
    task = client.image_to_video.create(
        model="gen4_turbo", prompt_image=PNG, ratio="1280:720",
        prompt_text="a cat", duration=5,
    ).wait_for_task_output(timeout=60)  # fmt: skip
    assert task.status == "SUCCEEDED" and "/v1/files/" in task.output[0]
    assert requests.get(task.output[0], timeout=10).content[4:8] == b"ftyp"
    assert task.cost.credits == 25  # 5 s at 0.05 a second, in Runway credits of 0.01
    sent = fakes.runway.calls("POST", "/v1/image_to_video")[-1]
    assert sent["model"] == "gen4_turbo" and sent["promptImage"][0]["position"] == "first"
    assert sent["promptImage"][0]["uri"].startswith("data:image/png;base64,")
    unsafe = client.text_to_video.create(
        model="gen4.5", prompt_text="bad [fake:unsafe]", ratio="1280:720", duration=2
    )
    with pytest.raises(runwayml.TaskFailedError) as failed:
        unsafe.wait_for_task_output(timeout=60)
    assert failed.value.task_details.failure_code == "SAFETY.INPUT.TEXT"  # type: ignore[union-attr]


def luma_done(client: lumaai.LumaAI, gen_id: str) -> lumaai.types.Generation:
    deadline = time.monotonic() + 60
    while (gen := client.generations.get(gen_id)).state not in ("completed", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return gen


def test_luma_sdk_to_mediagate_to_luma(live: tuple[Server, str], fakes: Fakes) -> None:
    server, key = live
    client = lumaai.LumaAI(auth_token=key, base_url=server.url + "/luma/dream-machine/v1")
    first = luma_done(client, str(client.generations.create(model="ray-2", prompt="a dune").id))
    assert first.state == "completed" and "/v1/files/" in str(first.assets.video)  # type: ignore[union-attr]
    upstream_first = next(iter(fakes.luma.gens))
    more = client.generations.create(
        model="ray-2",
        prompt="on",
        keyframes={"frame0": {"type": "generation", "id": str(first.id)}},
    )
    assert luma_done(client, str(more.id)).state == "completed"
    sent = fakes.luma.calls("POST", "/generations/video")[-1]
    assert sent["keyframes"]["frame0"] == {"type": "generation", "id": upstream_first}
    inline = client.generations.create(
        model="ray-2", prompt="x", keyframes={"frame0": {"type": "image", "url": PNG}}
    )
    # Luma (and new-api's Luma passthrough) take keyframes by public URL only; the next route,
    # the aggregator's GoAmzAI format (here that "new-api" is another mediagate), takes the
    # image inline, so the task fails over and is made there.
    moved = luma_done(client, str(inline.id))
    assert moved.state == "completed"
    task = requests.get(server.url + "/v1/media/result", params={"task_id": str(inline.id)},
                        headers={"Authorization": key}, timeout=10).json()  # fmt: skip
    assert task["provider"] == "goamz-luma"


def test_zhipu_sdk_to_mediagate_to_zhipu(live: tuple[Server, str], fakes: Fakes) -> None:
    server, key = live
    zai = zhipuai.ZhipuAI(api_key=key, base_url=server.url + "/cogvideox/v4", max_retries=0)
    made = zai.videos.generations(model="cogvideox-3", prompt="a lantern", size="1280x720")
    deadline = time.monotonic() + 60
    while (got := zai.videos.retrieve_videos_result(id=str(made.id))).task_status == "PROCESSING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert got.task_status == "SUCCESS" and "/v1/files/" in got.video_result[0].url
    assert requests.get(got.video_result[0].url, timeout=10).content[4:8] == b"ftyp"
    assert fakes.zhipu.calls("POST", "/videos/generations")[-1]["size"] == "1280x720"
    before = requests.get(server.url + "/v1/balance", headers={"Authorization": key}, timeout=10)
    unsafe = zai.videos.generations(model="cogvideox-3", prompt="x [fake:unsafe]")
    deadline = time.monotonic() + 60
    while (bad := zai.videos.retrieve_videos_result(id=str(unsafe.id))).task_status == "PROCESSING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert bad.task_status == "FAIL"
    after = requests.get(server.url + "/v1/balance", headers={"Authorization": key}, timeout=10)
    assert after.json()["balance"] == before.json()["balance"]  # refunded


def kling_done(server: Server, key: str, task_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while True:
        data: dict[str, object] = requests.get(
            f"{server.url}/kling/v1/videos/text2video/{task_id}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        ).json()["data"]
        if data["task_status"] in ("succeed", "failed"):
            return data
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_kling_with_a_jwt_then_failover_to_a_new_api(
    live: tuple[Server, str], fakes: Fakes
) -> None:
    server, key = live
    body = {"model_name": "kling-v2-6", "prompt": "a crane", "sound": "on"}
    made = requests.post(
        server.url + "/kling/v1/videos/text2video", json=body,
        headers={"Authorization": f"Bearer {key}"}, timeout=10,
    ).json()  # fmt: skip
    data = kling_done(server, key, made["data"]["task_id"])
    assert data["task_status"] == "succeed", data
    assert (
        fakes.kling.tokens
        and fakes.kling.calls("POST", "/v1/videos/text2video")[-1]["sound"] == "on"
    )
    fakes.kling.fail_next(500, {"code": 5000, "message": "internal"}, times=20)
    moved = requests.post(
        server.url + "/kling/v1/videos/text2video", json={**body, "prompt": "a heron"},
        headers={"Authorization": f"Bearer {key}"}, timeout=10,
    ).json()  # fmt: skip
    data = kling_done(server, key, moved["data"]["task_id"])
    fakes.kling.failures.clear()
    assert data["task_status"] == "succeed", data
    video = data["task_result"]["videos"][0]  # type: ignore[index]
    assert "/v1/files/" in video["url"] and requests.get(video["url"], timeout=10).ok


def test_flux_on_bfl_is_stored_at_once(live: tuple[Server, str], fakes: Fakes) -> None:
    server, key = live
    made = requests.post(
        server.url + "/flux/v1/flux-2-pro",
        json={"prompt": "a bell", "width": 512, "height": 512},
        headers={"x-key": key},
        timeout=10,
    ).json()
    deadline = time.monotonic() + 60
    while (got := requests.get(made["polling_url"], headers={"x-key": key}, timeout=10).json())[
        "status"
    ] == "Pending":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert got["status"] == "Ready" and "/v1/files/" in got["result"]["sample"]
    assert requests.get(got["result"]["sample"], timeout=10).content[:3] == b"\xff\xd8\xff"
    assert fakes.bfl.calls("POST", "/v1/flux-2-pro")[-1]["width"] == 512


def test_stability_multipart_in_and_out(live: tuple[Server, str], fakes: Fakes) -> None:
    server, key = live
    resp = requests.post(
        server.url + "/sd/v2beta/stable-image/generate/core",
        files={"prompt": (None, "a cup"), "style_preset": (None, "origami")},
        headers={"Authorization": f"Bearer {key}", "accept": "image/*"},
        timeout=60,
    )
    assert resp.status_code == 200, resp.text
    assert resp.content[:4] == b"\x89PNG" and resp.headers["finish-reason"] == "SUCCESS"
    assert fakes.stability.forms[-1]["style_preset"] == "origami"
    flagged = requests.post(
        server.url + "/sd/v2beta/stable-image/generate/core",
        files={"prompt": (None, "x [fake:filtered]")},
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    assert flagged.status_code == 403 and flagged.json()["name"] == "content_moderation"


def test_vidu_with_a_token(live: tuple[Server, str], fakes: Fakes) -> None:
    server, key = live
    made = requests.post(
        server.url + "/vidu/ent/v2/text2video",
        json={"model": "viduq1", "prompt": "a tram", "duration": 5},
        headers={"Authorization": f"Token {key}"},
        timeout=10,
    ).json()
    deadline = time.monotonic() + 60
    while (
        got := requests.get(
            f"{server.url}/vidu/ent/v2/tasks/{made['task_id']}/creations",
            headers={"Authorization": f"Token {key}"},
            timeout=10,
        ).json()
    )["state"] not in ("success", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert got["state"] == "success" and "/v1/files/" in got["creations"][0]["url"]
    assert fakes.vidu.calls("POST", "/ent/v2/text2video")[-1]["model"] == "viduq1"


def test_ideogram_synchronous_through_a_vendor(live: tuple[Server, str], fakes: Fakes) -> None:
    server, key = live
    resp = requests.post(
        server.url + "/ideogram/generate",
        json={"image_request": {"prompt": "a map", "model": "V_2A", "num_images": 2}},
        headers={"Api-Key": key},
        timeout=60,
    )
    assert resp.status_code == 200, resp.text
    data = resp.json()["data"]
    assert len(data) == 2 and all("/v1/files/" in d["url"] for d in data)
    assert fakes.ideogram.seen[-1]["model"] == "V_2A"
    unsafe = requests.post(
        server.url + "/ideogram/generate",
        json={"image_request": {"prompt": "x [fake:unsafe]"}},
        headers={"Api-Key": key},
        timeout=60,
    )
    assert unsafe.status_code == 422


def test_a_vendor_in_its_own_format_fails_over_to_new_api(
    live: tuple[Server, str], fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runway down: the task moves to its second route, Runway's format through new-api's
    key and prefix (/runwayml), here served by another mediagate."""
    monkeypatch.setattr(polling, "POLL_TIME", 0.2)
    monkeypatch.setattr(polling, "POLL_JITTER", 0.1)
    server, key = live
    fakes.runway.fail_next(503, {"error": "down"}, times=30)
    client = runwayml.RunwayML(api_key=key, base_url=server.url + "/runwayml", max_retries=0)
    try:
        task = client.image_to_video.create(
            model="gen4_turbo", prompt_image=PNG, ratio="960:960", duration=5
        ).wait_for_task_output(timeout=60)
    finally:
        fakes.runway.failures.clear()
    assert task.status == "SUCCEEDED" and "/v1/files/" in task.output[0]
    assert requests.get(task.output[0], timeout=10).content[4:8] == b"ftyp"
