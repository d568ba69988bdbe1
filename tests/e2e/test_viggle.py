"""Viggle (issue 23): a key's asset library (character images and driving videos: kept,
listed, deleted, another key's absent), Mix, Move and Multi from an upload or a template on a
test key (the sandbox composes the character over the video's motion: an MP4 with the
driving video's size, frame rate and frame count), credits, bad inputs, and a live key
through the fake of Viggle's own API, failing over between two channels."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import av
import numpy as np
import requests
from PIL import Image, ImageDraw

from tests.fakes.base import sample_mp4
from tests.fakes.viggle import FakeViggle
from tests.helpers import Server
from tests.media import probe


def character() -> bytes:
    img = Image.new("RGB", (200, 300), (255, 255, 255))
    ImageDraw.Draw(img).ellipse((40, 40, 160, 260), fill=(220, 20, 20))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def red_share(video: bytes) -> list[float]:
    """Each frame's share of strongly red pixels (the character is red; the sandbox's
    renders are not)."""
    out = []
    with av.open(io.BytesIO(video)) as box:
        for frame in box.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24").astype(np.int32)
            red = (rgb[..., 0] > 150) & (rgb[..., 1] < 90) & (rgb[..., 2] < 90)
            out.append(float(red.mean()))
    return out


def task(server: Server, auth: dict[str, str], task_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        got = requests.post(server.url + "/viggle/video-task/by-ids", json={"ids": [task_id]},
                            headers=auth, timeout=10).json()["data"][0]  # fmt: skip
        if got["status"] in (2, 3):
            return got  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, got
        time.sleep(0.1)


def keep(server: Server, auth: dict[str, str], path: str, name: str, data: bytes, kind: str
         ) -> requests.Response:  # fmt: skip
    return requests.post(server.url + path, files={"file": (name, data, kind)}, headers=auth,
                         timeout=30)  # fmt: skip


def test_mix_move_and_multi_from_the_library(server: Server, key: str, other_key: str) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    hero = keep(server, auth, "/viggle/asset/image", "hero.png", character(), "image/png").json()
    assert hero["code"] == 0 and (hero["data"]["width"], hero["data"]["height"]) == (200, 300)
    image_id = hero["data"]["id"]
    driving = sample_mp4(320, 480, 2)
    dance = keep(server, auth, f"/pro/viggle/asset/video/{image_id}", "dance.mp4", driving,
                 "video/mp4").json()["data"]  # fmt: skip
    listed = requests.get(server.url + "/viggle/asset/video", headers=auth, timeout=10).json()
    assert [v["id"] for v in listed["data"]] == [dance["id"]]
    source = probe(driving)
    for mode in ("mix", "move"):
        made = requests.post(server.url + "/pro/viggle/video-task", headers=auth, timeout=10,
                             json={"mode": mode, "bgMode": 0, "modelInfoID": 3,
                                   "imageID": image_id, "videoID": dance["id"]}).json()  # fmt: skip
        done = task(server, auth, made["data"]["taskID"])
        assert done["status"] == 2 and done["result"]["coverURL"], done
        video = requests.get(done["result"]["url"], timeout=10).content
        out = probe(video)
        assert (out.width, out.height, out.fps, out.frames) == (
            source.width, source.height, source.fps, source.frames)  # fmt: skip
        added = [o - d for o, d in zip(red_share(video), red_share(driving), strict=True)]
        assert min(added) > 0.02  # the character is in every frame, and the video's frames
        # are the driving video's
    group_wave = "c5f3e4d6-7d80-4192-acb3-d4e5f6071823"
    multi = requests.post(server.url + "/viggle/video-task", headers=auth, timeout=10,
                          json={"mode": "multi", "imageIDs": [image_id, image_id], "bgMode": 2,
                                "templateID": group_wave}).json()  # fmt: skip
    group = task(server, auth, multi["data"]["taskID"])
    assert group["status"] == 2 and group["template"]["command"] == "group_wave"
    frame = red_share(requests.get(group["result"]["url"], timeout=10).content)
    assert min(frame) > 0.04  # two characters, on green
    templates = requests.get(server.url + "/viggle/templates", params={"mode": "mix"},
                             headers=auth, timeout=10).json()["data"]  # fmt: skip
    assert templates and all(t["mode"] == "mix" for t in templates)
    assert (
        requests.get(server.url + "/viggle/credits", headers=auth, timeout=10).json()["code"] == 0
    )
    theirs = {"Authorization": f"Bearer {other_key}"}
    for path, body, field in (
        ("/viggle/video-task", {"imageID": image_id, "videoID": dance["id"]}, "no image"),
        ("/viggle/video-task", {"imageID": "nope", "templateID": "x"}, "no image"),
    ):
        got = requests.post(server.url + path, json=body, headers=theirs, timeout=10)
        assert got.status_code == 404 and field in got.json()["message"], got.text
    for body, field in (
        ({"imageID": image_id}, "videoID"),
        ({"imageID": image_id, "templateID": "nope"}, "templateID"),
        ({"imageIDs": [image_id] * 2, "videoID": dance["id"]}, "imageID"),
        ({"mode": "dance", "imageID": image_id, "videoID": dance["id"]}, "mode"),
    ):
        got = requests.post(server.url + "/viggle/video-task", json=body, headers=auth, timeout=10)
        assert got.status_code == 400 and field in got.json()["message"], got.text
    not_video = keep(server, auth, f"/viggle/asset/video/{image_id}", "x.mp4", b"nope", "video/mp4")
    assert not_video.status_code == 400 and "MP4" in not_video.json()["message"]
    not_image = keep(server, auth, "/viggle/asset/image", "x.png", b"nope", "image/png")
    assert not_image.status_code == 400
    gone = requests.delete(f"{server.url}/viggle/asset/{dance['id']}", headers=auth, timeout=10)
    assert gone.json()["data"]["id"] == dance["id"]
    assert requests.get(server.url + "/viggle/asset/video", headers=auth, timeout=10).json()[
        "data"] == []  # fmt: skip
    again = requests.delete(f"{server.url}/viggle/asset/{dance['id']}", headers=auth, timeout=10)
    assert again.status_code == 404


def test_a_live_key_through_viggles_api_with_channel_failover(tmp_path: Path) -> None:
    bad, good = FakeViggle(api_key="vg-a").start(), FakeViggle(api_key="vg-b").start()
    server = Server(tmp_path, MEDIAGATE_UPSTREAM_POLL_S="0.05",
                    MEDIAGATE_CHANNEL_REFRESH_S="0.3").start()  # fmt: skip
    try:
        admin = {"Authorization": server.key("admin")}
        for fake, priority in ((bad, 10), (good, 0)):
            made = requests.post(server.url + "/v1/admin/channels", headers=admin, timeout=10,
                                 json={"provider": "viggle", "api_key": fake.api_key,
                                       "base_url": fake.url, "priority": priority})  # fmt: skip
            assert made.status_code == 201, made.text
        time.sleep(0.6)
        key = server.funded_live_key(10)
        auth = {"Authorization": f"Bearer {key}"}
        hero = keep(server, auth, "/viggle/asset/image", "h.png", character(), "image/png").json()
        dance = keep(server, auth, f"/viggle/asset/video/{hero['data']['id']}", "d.mp4",
                     sample_mp4(), "video/mp4").json()  # fmt: skip
        bad.fail_next(500, {"error": "down"}, times=10)
        made = requests.post(server.url + "/viggle/video-task", headers=auth, timeout=10,
                             json={"imageID": hero["data"]["id"],
                                   "videoID": dance["data"]["id"]}).json()  # fmt: skip
        done = task(server, auth, made["data"]["taskID"])
        assert done["status"] == 2 and probe(
            requests.get(done["result"]["url"], timeout=10).content
        )
        assert good.renders and good.renders[0]["driving_video"] > 1000 and good.renders[0][
            "mode"] == "mix"  # fmt: skip
        templated = requests.post(server.url + "/viggle/video-task", headers=auth, timeout=10,
                                  json={"imageID": hero["data"]["id"], "mode": "move",
                                        "templateID": "b4e2d3c5-6c7f-4081-9ba2-c3d4e5f60712"}
                                  ).json()  # fmt: skip
        assert task(server, auth, templated["data"]["taskID"])["status"] == 2
        assert good.renders[-1]["scene_id"] == "scene-b4e2d3c5-6c7f-4081-9ba2-c3d4e5f60712"
        server.cli("ledger", "check")
    finally:
        server.stop()
        bad.stop()
        good.stop()
