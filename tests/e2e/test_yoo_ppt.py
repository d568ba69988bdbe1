"""韦尼克 (yoo-ai) PPT in its own format on a live server: a deck from a description (the
outline drafted by the sandbox's chat model through the relay), from custom_data (catalogs and
contents, exactly), its progress and download link, a template change and an inserted page
(each a new task), and errors that name the field; another key's deck is absent."""

from __future__ import annotations

import io
import time
from typing import Any

import requests
from pptx import Presentation

from tests.helpers import Server


def until_done(server: Server, auth: dict[str, str], task_id: str) -> dict[str, Any]:
    for _ in range(300):
        got = requests.get(server.url + "/apps/ppt-result", params={"id": task_id},
                           headers=auth, timeout=10).json()  # fmt: skip
        if got["data"]["status"] != 1:
            assert got["data"]["status"] == 2, got
            return got["data"]  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError("the deck never finished")


def slides(server: Server, auth: dict[str, str], task_id: str) -> tuple[list[str], list[str]]:
    link = requests.get(server.url + "/apps/ppt-download", params={"id": task_id},
                        headers=auth, timeout=10).json()["data"]["download_url"]  # fmt: skip
    deck = Presentation(io.BytesIO(requests.get(link, timeout=10).content))
    titles = [s.shapes.title.text for s in deck.slides]
    body = [p.text for s in deck.slides for sh in s.shapes if sh.has_text_frame and
            sh != s.shapes.title for p in sh.text_frame.paragraphs if p.text]  # fmt: skip
    return titles, body


def test_decks_in_yoo_ai_format(server: Server, key: str, other_key: str) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    post = lambda path, body: requests.post(server.url + path, json=body, headers=auth,  # noqa: E731
                                            timeout=30)  # fmt: skip
    made = post("/apps/ppt-create", {"text": "生成一份关于网络安全的PPT", "color": "紫色"}).json()
    assert made["code"] == 200 and made["msg"] == "success"
    done = until_done(server, auth, made["data"]["id"])
    assert done["input_text"] == "生成一份关于网络安全的PPT" and done["progress"] == 100
    titles, _ = slides(server, auth, made["data"]["id"])
    assert len(titles) >= 7  # the drafted outline: a subject, chapters, pages

    custom = {"title": "网络安全", "catalogs": [
        {"catalog": "威胁", "sub_catalog": ["钓鱼", "勒索"]}, {"catalog": "防护"}],
        "contents": [{"catalog_index": 0, "sub_catalog_index": 1, "content": ["备份", "隔离"]},
                     {"catalog_index": 1, "content": [{"口令": "长且唯一"}]}]}  # fmt: skip
    made = post("/apps/ppt-create", {"custom_data": custom, "cover_id": "forest"}).json()
    until_done(server, auth, made["data"]["id"])
    titles, body = slides(server, auth, made["data"]["id"])
    assert titles == ["网络安全", "威胁", "钓鱼", "勒索", "防护", "防护"]
    assert [b for b in body if b != "mediagate"] == ["备份", "隔离", "口令: 长且唯一"]

    redone = post("/apps/ppt-create-task", {"id": made["data"]["id"], "cover_id": "sunrise"}).json()
    assert redone["data"]["id"] != made["data"]["id"]
    until_done(server, auth, redone["data"]["id"])
    paged = post("/apps/ppt-page", {"id": redone["data"]["id"], "text": "零信任",
                                    "slide_number": 2}).json()  # fmt: skip
    until_done(server, auth, paged["data"]["id"])
    titles, _ = slides(server, auth, paged["data"]["id"])
    assert titles == ["网络安全", "威胁", "零信任", "钓鱼", "勒索", "防护", "防护"]

    bad = post("/apps/ppt-create", {"custom_data": {"title": "x"}})
    assert bad.status_code == 400 and "custom_data" in bad.json()["msg"]
    bad = post("/apps/ppt-create", {"text": "x", "cover_id": "neon"})
    assert bad.status_code == 400 and "cover_id" in bad.json()["msg"]
    assert post("/apps/ppt-create", {}).status_code == 400
    theirs = requests.get(server.url + "/apps/ppt-result", params={"id": made["data"]["id"]},
                          headers={"Authorization": f"Bearer {other_key}"}, timeout=10)  # fmt: skip
    assert theirs.status_code == 404 and theirs.json()["data"] is None
