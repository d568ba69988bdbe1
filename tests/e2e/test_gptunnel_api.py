"""The gptunnel dialect end to end on a live server: every model, every aspect ratio."""

from __future__ import annotations

import re

import pytest
import requests

from mediagate.core.catalogue import default_catalogue
from tests.helpers import Server, wait_done
from tests.media import probe

CATALOGUE = default_catalogue()
# The image and video models (a family's models, Midjourney's and Suno's, have their own
# dialects and tests).
CASES = [
    (spec.id, ar)
    for spec in CATALOGUE.models.values()
    if not spec.family
    for ar in spec.aspect_ratios
]


def create(server: Server, key: str, **body: object) -> requests.Response:
    return requests.post(
        server.url + "/v1/media/create", json=body, headers={"Authorization": key}, timeout=10
    )


@pytest.mark.parametrize(("model", "ar"), CASES)
def test_every_model_and_ratio_makes_matching_media(
    server: Server, key: str, model: str, ar: str
) -> None:
    resp = create(server, key, model=model, prompt=f"a lighthouse, {ar}", ar=ar)
    assert resp.status_code == 200
    body = resp.json()
    assert body["code"] == 0
    assert re.fullmatch(r"[0-9a-f]{24}", body["id"])
    assert body["model"] == model
    assert body["prompt"] == f"a lighthouse, {ar} --ar {ar}"
    assert body["status"] == "idle"
    assert body["url"] is None
    assert isinstance(body["created_at"], int)

    done = wait_done(server.url, key, body["id"])
    assert done["status"] == "done", done
    assert done["id"] == body["id"] and done["created_at"] == body["created_at"]
    url = done["url"]
    assert isinstance(url, str) and url.startswith(server.url + "/v1/files/")

    # The result link works from any HTTP client, with no API key.
    media = requests.get(url, timeout=30)
    assert media.status_code == 200
    spec = CATALOGUE.get(model)
    assert media.headers["content-type"] == spec.content_type
    info = probe(media.content)
    assert info.format == spec.format
    assert (info.width, info.height) == spec.sizes[ar]
    if spec.kind.value == "video":
        assert info.codec == "h264"
        assert info.fps == spec.fps
        assert info.duration == pytest.approx(spec.default_duration, abs=0.05)
        assert info.frames == spec.default_duration * spec.fps


def test_default_aspect_ratio_when_ar_is_omitted(server: Server, key: str) -> None:
    body = create(server, key, model="google-imagen-3", prompt="no ar given").json()
    assert body["prompt"] == "no ar given"
    done = wait_done(server.url, key, body["id"])
    info = probe(requests.get(str(done["url"]), timeout=10).content)
    assert (info.width, info.height) == (1024, 1024)


def test_result_accepts_post_body_get_query_and_post_query(server: Server, key: str) -> None:
    task_id = create(server, key, model="seedream-3", prompt="three ways").json()["id"]
    h = {"Authorization": key}
    via_body = requests.post(server.url + "/v1/media/result", json={"task_id": task_id}, headers=h)
    via_get = requests.get(server.url + "/v1/media/result", params={"task_id": task_id}, headers=h)
    via_post_query = requests.post(
        server.url + "/v1/media/result", params={"task_id": task_id}, headers=h
    )
    for resp in (via_body, via_get, via_post_query):
        assert resp.status_code == 200
        assert resp.json()["id"] == task_id


def test_status_passes_through_idle_processing_done(tmp_path) -> None:  # type: ignore[no-untyped-def]
    srv = Server(tmp_path / "slow", latency=1.5).start()
    try:
        key = srv.key()
        task_id = create(srv, key, model="seedream-3", prompt="slow one").json()["id"]
        seen = []
        for _ in range(400):
            status = requests.get(
                srv.url + "/v1/media/result",
                params={"task_id": task_id},
                headers={"Authorization": key},
                timeout=5,
            ).json()["status"]
            if not seen or seen[-1] != status:
                seen.append(status)
            if status == "done":
                break
            import time

            time.sleep(0.02)
        assert seen[-2:] == ["processing", "done"]
        assert seen[0] in ("idle", "processing")
    finally:
        srv.stop()


def test_same_prompt_gives_same_bytes(server: Server, key: str) -> None:
    a = create(server, key, model="seedream-3", prompt="determinism", ar="4:3").json()["id"]
    b = create(server, key, model="seedream-3", prompt="determinism", ar="4:3").json()["id"]
    c = create(server, key, model="seedream-3", prompt="something else", ar="4:3").json()["id"]
    blobs = [
        requests.get(str(wait_done(server.url, key, t)["url"]), timeout=10).content
        for t in (a, b, c)
    ]
    assert blobs[0] == blobs[1]
    assert blobs[0] != blobs[2]


def test_bearer_prefix_is_accepted(server: Server, key: str) -> None:
    resp = create(server, f"Bearer {key}", model="seedream-3", prompt="bearer")
    assert resp.status_code == 200


def test_unified_video_parameters_on_veo_3(server: Server, key: str) -> None:
    resp = create(
        server,
        key,
        model="veo-3.0-generate-preview",
        prompt="two clips",
        ar="9:16",
        duration_seconds=4,
        sample_count=2,
    )
    assert resp.status_code == 200, resp.text
    done = wait_done(server.url, key, resp.json()["id"])
    assert done["status"] == "done"
    urls = done["urls"]
    assert isinstance(urls, list) and len(urls) == 2 and urls[0] == done["url"]
    clips = [requests.get(u, timeout=30).content for u in urls]
    for clip in clips:
        info = probe(clip)
        assert (info.width, info.height, info.duration) == (720, 1280, 4.0)
    assert clips[0] != clips[1]
