"""Issue 26: what the official clients tripped on, each driven by the client that found it
(openai, lumaai, zhipuai; midjourney-proxy's and Kling's flows over HTTP, as their clients
send them)."""

from __future__ import annotations

import base64
import io
import time
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import httpx2
import lumaai
import openai
import pytest
import requests
import zhipuai
from PIL import Image

from tests.helpers import Server, mj_done


@pytest.fixture
def client(server: Server, key: str) -> Iterator[openai.OpenAI]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the SDK's videos.* warn
        with openai.OpenAI(api_key=key, base_url=server.url + "/v1", max_retries=0) as c:
            yield c


def picture(b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def test_gpt_image_1_takes_its_own_sizes_and_n(client: openai.OpenAI) -> None:
    wide = client.images.generate(model="gpt-image-1", prompt="a fox", size="1536x1024", n=2)
    assert len(wide.data) == 2 and all(d.b64_json for d in wide.data)  # its default: b64
    shapes = [picture(d.b64_json or "").size for d in wide.data]
    assert all(w > h for w, h in shapes)  # the nearest ratio the model has: landscape
    assert (
        picture(wide.data[0].b64_json or "").tobytes()
        != picture(wide.data[1].b64_json or "").tobytes()
    )  # two pictures, not one twice
    tall = client.images.generate(model="gpt-image-1", prompt="a fox", size="1024x1536")
    (w, h) = picture(tall.data[0].b64_json or "").size
    assert h > w
    with pytest.raises(openai.BadRequestError, match=r"1\.\.10"):
        client.images.generate(model="gpt-image-1", prompt="a fox", n=11)
    with pytest.raises(openai.BadRequestError, match=r"1\.\.1"):
        client.images.generate(model="dall-e-3", prompt="a fox", n=2)


def test_dall_e_answers_links_by_default(client: openai.OpenAI) -> None:
    for model in ("dall-e-3", "dall-e-2"):
        made = client.images.generate(model=model, prompt="a lighthouse")
        assert made.data[0].url and made.data[0].b64_json is None
        assert requests.get(made.data[0].url, timeout=10).status_code == 200
    asked = client.images.generate(model="dall-e-3", prompt="x", response_format="b64_json")
    assert asked.data[0].b64_json


def test_a_model_of_another_kind_names_the_route_that_serves_it(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as audio:
        client.images.generate(model="suno-v4", prompt="a song")
    assert "no OpenAI route serves audio" in audio.value.message
    assert "/v1/videos" not in audio.value.message
    with pytest.raises(openai.BadRequestError) as on_videos:
        client.videos.create(model="suno-v4", prompt="a song")  # type: ignore[arg-type]
    assert "no OpenAI route serves audio" in on_videos.value.message
    with pytest.raises(openai.BadRequestError) as image:
        client.videos.create(model="seedream-3", prompt="x")  # type: ignore[arg-type]
    assert "use POST /v1/images/generations" in image.value.message
    with pytest.raises(openai.BadRequestError) as video:
        client.images.generate(model="veo-3.0-generate-preview", prompt="x")
    assert "use POST /v1/videos" in video.value.message


def test_video_routes_nobody_serves_are_404s(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.videos.edit(prompt="x", video=("v.mp4", b"\0" * 16, "video/mp4"))
    with pytest.raises(openai.NotFoundError):
        client.videos.extend(prompt="x", seconds="4", video=("v.mp4", b"\0" * 16, "video/mp4"))
    with pytest.raises(openai.NotFoundError):
        client.videos.create_character(name="x", video=("v.mp4", b"\0" * 16, "video/mp4"))
    with pytest.raises(openai.NotFoundError):
        client.videos.get_character("char_1")


def test_sora_2_follows_soras_defaults_and_keeps_its_name(client: openai.OpenAI) -> None:
    video = client.videos.create(model="sora-2", prompt="a wave")
    assert (video.model, video.seconds, video.size) == ("sora-2", "4", "720x1280")
    again = client.videos.retrieve(video.id)
    assert again.model == "sora-2"
    chosen = client.videos.create(model="sora-2", prompt="a wave", seconds="8", size="1280x720")
    assert (chosen.seconds, chosen.size) == ("8", "1280x720")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK's videos.* warn
def test_an_idempotency_conflict_is_not_retried(server: Server, key: str) -> None:
    sent: list[str] = []
    hooks = {"request": [lambda r: sent.append(str(r.url))]}
    with openai.OpenAI(
        api_key=key,
        base_url=server.url + "/v1",
        max_retries=2,
        http_client=httpx2.Client(event_hooks=hooks),
    ) as c:
        idem = {"Idempotency-Key": f"conflict-{time.time()}"}
        c.videos.create(model="sora-2", prompt="first", extra_headers=idem)
        sent.clear()
        started = time.monotonic()
        with pytest.raises(openai.ConflictError):
            c.videos.create(model="sora-2", prompt="second", extra_headers=idem)
        assert len(sent) == 1 and time.monotonic() - started < 1.0
    luma_sent: list[str] = []
    with lumaai.LumaAI(
        auth_token=key,
        base_url=server.url + "/luma/dream-machine/v1",
        max_retries=2,
        http_client=httpx.Client(event_hooks={"request": [lambda r: luma_sent.append("x")]}),
    ) as luma:
        idem = {"Idempotency-Key": f"luma-{time.time()}"}
        luma.generations.create(model="ray-2", prompt="one", extra_headers=idem)
        luma_sent.clear()
        with pytest.raises(lumaai.ConflictError):
            luma.generations.create(model="ray-2", prompt="two", extra_headers=idem)
        assert len(luma_sent) == 1


def test_models_refuses_a_bad_key_and_lists_aliases(server: Server, key: str) -> None:
    with openai.OpenAI(api_key="mg_test_nope", base_url=server.url + "/v1", max_retries=0) as c:
        with pytest.raises(openai.AuthenticationError):
            c.models.list()
        with pytest.raises(openai.AuthenticationError):
            c.models.retrieve("dall-e-3")
    with openai.OpenAI(api_key=key, base_url=server.url + "/v1", max_retries=0) as c:
        ids = {m.id for m in c.models.list()}
        assert {"gpt-image-1", "dall-e-3", "sora-2", "seedream-3"} <= ids
        assert c.models.retrieve("gpt-image-1").id == "gpt-image-1"
    assert requests.get(server.url + "/v1/models", timeout=10).status_code == 200  # public


def mj(server: Server, key: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = requests.post(server.url + path, json=body, headers={"mj-api-secret": key}, timeout=30)
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return out


def test_describe_answers_in_prompt_and_round_trips_to_imagine(server: Server, key: str) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (512, 512), (30, 90, 200)).save(buf, "PNG")
    image = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    made = mj(server, key, "/mj/submit/describe", {"base64": image})
    task = mj_done(server.url, key, str(made["result"]))
    assert task["prompt"] == task["promptEn"] == task["properties"]["finalPrompt"]
    lines = [line for line in task["prompt"].split("\n") if line.strip()]
    assert len(lines) == 4 and all(line.endswith("--ar 1:1") for line in lines)
    first = lines[0].split(" ", 1)[1]  # without its "1️⃣"
    again = mj(server, key, "/mj/submit/imagine", {"prompt": first})
    assert again["code"] == 1, again
    unreduced = mj(server, key, "/mj/submit/imagine", {"prompt": "a bay --ar 1024:768"})
    assert unreduced["code"] == 1, unreduced


def test_kling_v2_accepts_and_ignores_cfg_scale(server: Server, key: str) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    body = {"model_name": "kling-v2-6", "prompt": "a fox", "cfg_scale": 0.5}
    made = requests.post(
        server.url + "/kling/v1/videos/text2video", json=body, headers=headers, timeout=10
    )
    assert made.status_code == 200, made.text
    assert made.json()["data"]["task_info"] == {"ignored_params": ["cfg_scale"]}
    task_id = made.json()["data"]["task_id"]
    read = requests.get(
        f"{server.url}/kling/v1/videos/text2video/{task_id}", headers=headers, timeout=10
    )
    assert read.json()["data"]["task_info"] == {"ignored_params": ["cfg_scale"]}
    wild = {**body, "cfg_scale": 7}
    refused = requests.post(
        server.url + "/kling/v1/videos/text2video", json=wild, headers=headers, timeout=10
    )
    assert refused.status_code == 400 and "cfg_scale" in refused.text
    v1 = {"model_name": "kling-v1-6", "prompt": "a fox", "cfg_scale": 0.3}
    kept = requests.post(
        server.url + "/kling/v1/videos/text2video", json=v1, headers=headers, timeout=10
    )
    assert kept.status_code == 200 and "task_info" not in kept.json()["data"]


def test_kling_lists_its_tasks(server: Server, other_key: str) -> None:
    headers = {"Authorization": f"Bearer {other_key}"}
    made = [
        requests.post(
            server.url + "/kling/v1/videos/text2video",
            json={"model_name": "kling-v2-6", "prompt": f"fox {i}"},
            headers=headers,
            timeout=10,
        ).json()["data"]["task_id"]
        for i in range(3)
    ]
    page = requests.get(
        server.url + "/kling/v1/videos/text2video",
        params={"pageNum": 1, "pageSize": 2},
        headers=headers,
        timeout=10,
    )
    assert page.status_code == 200, page.text
    assert [t["task_id"] for t in page.json()["data"]] == made[::-1][:2]
    second = requests.get(
        server.url + "/kling/v1/videos/text2video",
        params={"pageNum": 2, "pageSize": 2},
        headers=headers,
        timeout=10,
    ).json()["data"]
    assert made[0] in [t["task_id"] for t in second]
    bad = requests.get(
        server.url + "/kling/v1/videos/text2video",
        params={"pageSize": 900},
        headers=headers,
        timeout=10,
    )
    assert bad.status_code == 400 and "pageSize" in bad.text


def test_luma_echoes_keyframes_has_assets_credits_and_ping(server: Server, key: str) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (320, 180), (200, 40, 40)).save(buf, "PNG")
    frame = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    with lumaai.LumaAI(
        auth_token=key, base_url=server.url + "/luma/dream-machine/v1", max_retries=0
    ) as luma:
        assert luma.ping.check().message == "pong"
        assert luma.credits.get().credit_balance == 0  # a test key's account holds nothing
        made = luma.generations.create(
            model="ray-2",
            prompt="a red dawn",
            keyframes={"frame0": {"type": "image", "url": frame}},
            loop=True,
        )
        assert made.request.loop is True  # type: ignore[union-attr]
        deadline = time.monotonic() + 60
        while (gen := luma.generations.get(str(made.id))).state != "completed":
            assert gen.state != "failed" and time.monotonic() < deadline
            time.sleep(0.1)
        assert gen.assets is not None and gen.assets.video and gen.assets.progress_video
        assert gen.assets.image and requests.get(gen.assets.image, timeout=10).content[:2] == (
            b"\xff\xd8"
        )
        extended = luma.generations.create(
            model="ray-2",
            prompt="and on",
            keyframes={"frame0": {"type": "generation", "id": str(made.id)}},
        )
        keyframes = extended.request.keyframes  # type: ignore[union-attr]
        assert keyframes is not None and keyframes.frame0.id == made.id  # type: ignore[union-attr]


def test_ideogram_v3_sent_json_is_told_it_takes_multipart(server: Server, key: str) -> None:
    resp = requests.post(
        server.url + "/ideogram/v1/ideogram-v3/generate",
        json={"prompt": "a neon sign"},
        headers={"Api-Key": key},
        timeout=10,
    )
    assert resp.status_code == 400 and "multipart/form-data" in resp.text
    assert resp.json()["detail"].startswith("Content-Type:")


def test_flux_names_the_width_it_refuses(server: Server, key: str) -> None:
    resp = requests.post(
        server.url + "/flux/v1/flux-2-pro",
        json={"prompt": "a fox", "width": 100, "height": 768},
        headers={"x-key": key},
        timeout=10,
    )
    assert resp.status_code == 422, resp.text
    assert "width" in resp.text and "aspect_ratio" not in resp.text


def test_zhipuai_makes_cogview_images_on_the_readme_base_url(server: Server, key: str) -> None:
    zai = zhipuai.ZhipuAI(api_key=key, base_url=server.url + "/cogvideox/v4", max_retries=0)
    made = zai.images.generations(model="cogview-4", prompt="a fox", size="864x1152")
    got = Image.open(io.BytesIO(requests.get(str(made.data[0].url), timeout=10).content))
    assert got.size == (864, 1152)
    with pytest.raises(zhipuai.APIRequestFailedError):
        zai.images.generations(model="cogview-4", prompt="a fox", size="5x5")
