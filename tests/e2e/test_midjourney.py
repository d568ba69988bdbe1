"""The Midjourney dialect end to end on a server process: imagine, buttons, modals, describe,
blend, shorten, swap, list-by-condition, auth, isolation and bad input, all on the sandbox."""

from __future__ import annotations

import base64
import io
import time
from typing import Any

import numpy as np
import pytest
import requests
from PIL import Image

from tests.helpers import Server


def b64png(img: Image.Image) -> str:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def post(server: Server, key: str, path: str, body: dict[str, Any], **headers: str) -> Any:
    hdrs = {"Authorization": f"Bearer {key}", **headers}
    resp = requests.post(server.url + path, json=body, headers=hdrs, timeout=30)
    return resp


def submit(server: Server, key: str, path: str, body: dict[str, Any]) -> str:
    resp = post(server, key, path, body)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["code"] == 1, out
    assert isinstance(out["result"], str)
    return str(out["result"])


def fetch(server: Server, key: str, task_id: str) -> dict[str, Any]:
    resp = requests.get(
        f"{server.url}/mj/task/{task_id}/fetch",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return out


def done(server: Server, key: str, task_id: str, timeout: float = 60) -> dict[str, Any]:
    """Poll until SUCCESS, recording the progress seen on the way."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        task = fetch(server, key, task_id)
        seen.append(task["progress"])
        if task["status"] in ("SUCCESS", "FAILURE", "CANCEL"):
            assert task["status"] == "SUCCESS", task["failReason"]
            task["_progress_seen"] = seen
            return task
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} did not finish: {seen[-3:]}")


def image_of(task: dict[str, Any]) -> Image.Image:
    resp = requests.get(task["imageUrl"], timeout=10)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(resp.content)).convert("RGB")


def button(task: dict[str, Any], label: str = "", emoji: str = "") -> str:
    for b in task["buttons"]:
        if (label and b["label"] == label) or (emoji and b["emoji"] == emoji):
            return str(b["customId"])
    raise AssertionError(f"no button {label or emoji} in {[b['label'] for b in task['buttons']]}")


def quadrants(img: Image.Image) -> list[np.ndarray]:
    a = np.asarray(img, dtype=np.float32)
    h, w = a.shape[0] // 2, a.shape[1] // 2
    return [a[:h, :w], a[:h, w:], a[h:, :w], a[h:, w:]]


@pytest.fixture(scope="module")
def grid(server: Server, key: str) -> dict[str, Any]:
    task_id = submit(server, key, "/mj/submit/imagine", {"prompt": "a lighthouse --ar 16:9"})
    return done(server, key, task_id)


def test_imagine_is_a_grid_of_four_different_images(server: Server, grid: dict[str, Any]) -> None:
    assert grid["action"] == "IMAGINE"
    assert grid["progress"] == "100%"
    assert any(p not in ("0%", "100%") for p in grid["_progress_seen"]), grid["_progress_seen"]
    img = image_of(grid)
    assert img.size == (1456, 816)  # the 16:9 size, four cells of 728x408
    cells = quadrants(img)
    for i in range(4):
        for j in range(i + 1, 4):
            assert np.abs(cells[i] - cells[j]).mean() > 10, (i, j)
    labels = [b["label"] for b in grid["buttons"]]
    assert labels[:4] == ["U1", "U2", "U3", "U4"] and "V1" in labels
    assert any(b["emoji"] == "🔄" for b in grid["buttons"])
    assert grid["submitTime"] <= grid["finishTime"]
    assert grid["properties"]["finalPrompt"] == "a lighthouse --ar 16:9"


def test_imagine_is_deterministic(server: Server, key: str, grid: dict[str, Any]) -> None:
    again = done(
        server, key, submit(server, key, "/mj/submit/imagine", {"prompt": "a lighthouse --ar 16:9"})
    )
    assert np.array_equal(np.asarray(image_of(again)), np.asarray(image_of(grid)))


def test_upscale_is_that_quadrant(server: Server, key: str, grid: dict[str, Any]) -> None:
    body = {"taskId": grid["id"], "customId": button(grid, "U2")}
    up = done(server, key, submit(server, key, "/mj/submit/action", body))
    assert up["action"] == "UPSCALE"
    big = image_of(up)
    assert big.size == (1456, 816)
    q2 = quadrants(image_of(grid))[1]
    small = np.asarray(big.resize((q2.shape[1], q2.shape[0])), dtype=np.float32)
    others = [np.abs(small - q).mean() for q in quadrants(image_of(grid))]
    assert int(np.argmin(others)) == 1 and others[1] < 8, others
    labels = [b["label"] for b in up["buttons"]]
    assert "Vary (Region)" in labels and "Zoom Out 2x" in labels and "U1" not in labels
    # A customId of another task, or an action the result does not allow, is refused.
    bad = post(
        server, key, "/mj/submit/action", {"taskId": up["id"], "customId": button(grid, "U1")}
    )
    assert bad.status_code == 400 and bad.json()["code"] == 4
    again = post(
        server, key, "/mj/submit/action",
        {"taskId": up["id"], "customId": f"MJ::JOB::upsample::1::{up['id']}"},
    )  # fmt: skip
    assert again.status_code == 400 and "action" in again.json()["description"]


def test_variation_and_reroll(server: Server, key: str, grid: dict[str, Any]) -> None:
    var = done(
        server,
        key,
        submit(
            server,
            key,
            "/mj/submit/change",
            {"taskId": grid["id"], "action": "VARIATION", "index": 1},
        ),
    )
    assert var["action"] == "VARIATION"
    q1 = quadrants(image_of(grid))[0]
    for cell in quadrants(image_of(var)):
        assert np.abs(cell - q1).mean() < np.abs(cell - quadrants(image_of(grid))[3]).mean()
    body = {"taskId": grid["id"], "customId": button(grid, emoji="🔄")}
    rer = done(server, key, submit(server, key, "/mj/submit/action", body))
    assert rer["action"] == "REROLL"
    assert (
        np.abs(
            np.asarray(image_of(rer), np.float32) - np.asarray(image_of(grid), np.float32)
        ).mean()
        > 10
    )
    simple = done(
        server,
        key,
        submit(server, key, "/mj/submit/simple-change", {"content": f"{grid['id']} U4"}),
    )
    assert simple["action"] == "UPSCALE"


@pytest.fixture(scope="module")
def single(server: Server, key: str, grid: dict[str, Any]) -> dict[str, Any]:
    body = {"taskId": grid["id"], "customId": button(grid, "U1")}
    return done(server, key, submit(server, key, "/mj/submit/action", body))


def test_zoom_out_and_pan(server: Server, key: str, single: dict[str, Any]) -> None:
    src = image_of(single)
    zoom = done(
        server,
        key,
        submit(
            server,
            key,
            "/mj/submit/action",
            {"taskId": single["id"], "customId": button(single, "Zoom Out 2x")},
        ),
    )
    assert zoom["action"] == "ZOOM"
    cell = Image.fromarray(quadrants(image_of(zoom))[0].astype(np.uint8))
    w, h = cell.size
    middle = np.asarray(cell.crop((w // 4, h // 4, w // 4 + w // 2, h // 4 + h // 2)), np.float32)
    expect = np.asarray(src.resize((middle.shape[1], middle.shape[0])), np.float32)
    assert np.abs(middle - expect).mean() < 12
    pan = done(
        server,
        key,
        submit(
            server,
            key,
            "/mj/submit/action",
            {"taskId": single["id"], "customId": button(single, emoji="⬅️")},
        ),
    )
    assert pan["action"] == "PAN"
    assert image_of(pan).size[0] > src.size[0] and image_of(pan).size[1] == src.size[1]


def test_vary_region_changes_only_the_mask(
    server: Server, key: str, single: dict[str, Any]
) -> None:
    body = {"taskId": single["id"], "customId": button(single, "Vary (Region)")}
    resp = post(server, key, "/mj/submit/action", body)
    assert resp.status_code == 200 and resp.json()["code"] == 21, resp.text
    modal_id = resp.json()["result"]
    assert fetch(server, key, modal_id)["status"] == "MODAL"
    bad = post(
        server,
        key,
        "/mj/submit/modal",
        {"taskId": modal_id, "maskBase64": b64png(Image.new("L", (64, 64), 0))},
    )
    assert bad.status_code == 400 and "maskBase64" in bad.json()["description"]
    junk = post(
        server,
        key,
        "/mj/submit/modal",
        {"taskId": modal_id, "maskBase64": "data:image/png;base64,AAAA"},
    )
    assert junk.status_code == 400 and "maskBase64" in junk.json()["description"]
    src = image_of(single)
    small = post(
        server,
        key,
        "/mj/submit/modal",
        {"taskId": modal_id, "maskBase64": b64png(Image.new("L", (src.width // 2, 9), 255))},
    )
    assert small.status_code == 400 and "maskBase64" in small.json()["description"]
    assert f"{src.width}x{src.height}" in small.json()["description"]
    mask = Image.new("L", src.size, 0)
    mask.paste(255, (0, 0, src.size[0] // 2, src.size[1] // 2))  # the top left quarter
    ok = post(server, key, "/mj/submit/modal", {"taskId": modal_id, "maskBase64": b64png(mask)})
    assert ok.status_code == 200 and ok.json()["code"] == 1, ok.text
    task = done(server, key, ok.json()["result"])
    assert task["action"] == "INPAINT"
    cell = quadrants(image_of(task))[0]
    ch, cw = cell.shape[:2]
    base = np.asarray(src.resize((cw, ch), Image.Resampling.BILINEAR), np.float32)
    inside = np.asarray(mask.resize((cw, ch)), dtype=np.uint8) > 127
    assert np.array_equal(cell[~inside], base[~inside])
    assert np.abs(cell[inside] - base[inside]).mean() > 5


def test_describe_blend_shorten_swap(server: Server, key: str) -> None:
    red = Image.new("RGB", (320, 200), (220, 30, 30))
    blue = Image.new("RGB", (200, 320), (30, 30, 220))
    desc = done(server, key, submit(server, key, "/mj/submit/describe", {"base64": b64png(red)}))
    assert image_of(desc).size == (320, 200)  # the described image, not the text output
    prompts = desc["properties"]["finalPrompt"].split("\n\n")
    assert len(prompts) == 4 and all("red" in p or "crimson" in p for p in prompts), prompts
    blend = done(
        server,
        key,
        submit(
            server,
            key,
            "/mj/submit/blend",
            {"base64Array": [b64png(red), b64png(blue)], "dimensions": "PORTRAIT"},
        ),
    )
    img = image_of(blend)
    assert img.size == (816, 1232)
    mean = np.asarray(img, np.float32).reshape(-1, 3).mean(0)
    assert mean[0] > 60 and mean[2] > 60  # both inputs show
    short = done(
        server,
        key,
        submit(
            server,
            key,
            "/mj/submit/shorten",
            {"prompt": "a very detailed majestic castle on a hill at sunset, cinematic lighting"},
        ),
    )
    assert "majestic" in short["properties"]["finalPrompt"] and short["imageUrl"] == ""
    face = Image.new("RGB", (200, 200), (250, 220, 180))
    swap = done(
        server,
        key,
        submit(
            server,
            key,
            "/mj/insight-face/swap",
            {"sourceBase64": b64png(face), "targetBase64": b64png(blue)},
        ),
    )
    out = np.asarray(image_of(swap), np.float32)
    assert out[out.shape[0] // 2 - 20, out.shape[1] // 2][0] > 200  # the face is in the middle
    assert out[5, 5][2] > 200  # the target stays around it


def test_list_by_condition_auth_and_isolation(
    server: Server, key: str, other_key: str, grid: dict[str, Any]
) -> None:
    mine = post(server, key, "/mj/task/list-by-condition", {"ids": [grid["id"], "0" * 24]})
    assert [t["id"] for t in mine.json()] == [grid["id"]]
    theirs = post(server, other_key, "/mj/task/list-by-condition", {"ids": [grid["id"]]})
    assert theirs.json() == []
    hidden = requests.get(
        f"{server.url}/mj/task/{grid['id']}/fetch",
        headers={"Authorization": f"Bearer {other_key}"},
        timeout=10,
    )
    assert hidden.status_code == 400 and hidden.json()["code"] == 4
    acting = post(
        server,
        other_key,
        "/mj/submit/action",
        {"taskId": grid["id"], "customId": button(grid, "U1")},
    )
    assert acting.status_code == 400 and acting.json()["code"] == 4
    via_secret = requests.get(
        f"{server.url}/mj-relax/mj/task/{grid['id']}/fetch",
        headers={"Authorization": "midjourney-proxy", "mj-api-secret": key},
        timeout=10,
    )
    assert via_secret.status_code == 200 and via_secret.json()["id"] == grid["id"]
    nokey = requests.get(f"{server.url}/mj/task/{grid['id']}/fetch", timeout=10)
    assert nokey.status_code == 401 and "error" in nokey.json()
    seed = requests.get(
        f"{server.url}/mj/task/{grid['id']}/image-seed", headers={"mj-api-secret": key}, timeout=10
    )
    assert seed.json()["code"] == 1 and seed.json()["result"].isdigit()
    img = requests.get(f"{server.url}/mj/image/{grid['id']}", timeout=10)
    assert img.status_code == 200 and img.content[:4] == b"\x89PNG"
    assert img.history and img.history[0].status_code == 302  # to the signed link
    assert "/v1/files/" in img.history[0].headers["location"]
    unknown = requests.get(f"{server.url}/mj/image/{'0' * 24}", timeout=10)
    assert unknown.status_code == 404 and unknown.json() == {"error": "midjourney_task_not_found"}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/mj/submit/imagine", {"prompt": "a cat --ar 7:3"}, "--ar"),
        ("/mj/submit/imagine", {"prompt": "a cat --s 5000"}, "--s"),
        ("/mj/submit/imagine", {"prompt": "a cat --v 9"}, "--v"),
        ("/mj/submit/imagine", {"prompt": "a cat --bogus 1"}, "--bogus"),
        ("/mj/submit/imagine", {"prompt": "a cat --seed x"}, "--seed"),
        ("/mj/submit/imagine", {"prompt": "   "}, "prompt"),
        ("/mj/submit/imagine", {"prompt": 5}, "prompt"),
        ("/mj/submit/imagine", {}, "prompt"),
        ("/mj/submit/blend", {"base64Array": ["data:image/png;base64,AAAA"] * 6}, "base64Array"),
        ("/mj/submit/action", {"taskId": "0" * 24, "customId": "MJ::JOB::dance::1::x"}, "customId"),
        ("/mj/submit/change", {"taskId": "0" * 24, "action": "UPSCALE", "index": 1}, "task"),
        ("/mj/submit/describe", {}, "base64"),
    ],
)
def test_bad_input_is_code_4_naming_the_field(
    server: Server, key: str, path: str, body: dict[str, Any], field: str
) -> None:
    resp = post(server, key, path, body)
    assert resp.status_code in (400, 404), resp.text
    out = resp.json()
    assert out["code"] == 4, out
    assert field in out["description"], out


def test_action_on_a_failed_task(server: Server, key: str) -> None:
    failed_id = submit(server, key, "/mj/submit/imagine", {"prompt": "x [sandbox:upstream-error]"})
    deadline = time.monotonic() + 30
    while fetch(server, key, failed_id)["status"] != "FAILURE" and time.monotonic() < deadline:
        time.sleep(0.1)
    resp = post(
        server, key, "/mj/submit/change", {"taskId": failed_id, "action": "UPSCALE", "index": 1}
    )
    assert resp.status_code == 400 and resp.json()["code"] == 4
    assert "failed" in resp.json()["description"]


def test_a_task_of_another_model_reads_through_the_dialect(server: Server, key: str) -> None:
    """Every dialect reads every task; a Seedream task has no Midjourney buttons (this
    was a 500, found by schemathesis)."""
    made = requests.post(
        server.url + "/v1/media/create",
        json={"model": "seedream-3", "prompt": "a kite"},
        headers={"Authorization": key},
        timeout=10,
    ).json()
    deadline = time.monotonic() + 30
    while (task := fetch(server, key, made["id"]))["status"] != "SUCCESS":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert task["buttons"] == [] and task["imageUrl"]


def test_a_banned_word_is_code_24_and_costs_nothing(server: Server, key: str) -> None:
    resp = post(server, key, "/mj/submit/imagine", {"prompt": "a NUDE statue --ar 1:1"})
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["code"] == 24 and out["result"] is None
    assert out["properties"]["bannedWord"] == "nude"
    assert out["properties"]["promptEn"] == "a NUDE statue --ar 1:1"
    assert post(server, key, "/mj/submit/imagine", {"prompt": "a nudibranch"}).json()["code"] == 1
    other = requests.post(
        server.url + "/v1/media/create",
        json={"model": "midjourney", "prompt": "gore everywhere"},
        headers={"Authorization": key},
        timeout=10,
    ).json()
    assert other["code"] != 0 and other["error"]["param"] == "prompt", other


def test_a_task_with_text_outputs_deletes_cleanly(server: Server, key: str) -> None:
    """Text outputs have no stored file: deleting their task (here through Runway's DELETE,
    any dialect reads any task) was a 500 that schemathesis found."""
    short = submit(server, key, "/mj/submit/shorten", {"prompt": "a castle on a hill"})
    done(server, key, short)
    resp = requests.delete(
        f"{server.url}/runwayml/v1/tasks/{short}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert resp.status_code == 204, resp.text
