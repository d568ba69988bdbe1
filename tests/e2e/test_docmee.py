"""docmee's PPT API in GPTNB's format on a live server: templates, an outline streamed from the
sandbox's chat model, content with an async deck and its progress, a deck made directly, the
key's list, load and save (the id kept across versions), template change and rename, ppt2json
and json2ppt, docmee's own ``token`` header and ``/api/ppt`` paths, and another key's decks
absent. Every deck is checked by reopening its file with python-pptx."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import requests
from pptx import Presentation

from tests.helpers import Server

BASE = "/docmee/v1/api/ppt"


def events(response: requests.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    found = []
    for block in response.text.split("\n\n"):
        for line in block.splitlines():
            if line.startswith("data: "):
                found.append(json.loads(line[6:]))
    return found


def titles_of(url: str) -> list[str]:
    deck = Presentation(io.BytesIO(requests.get(url, timeout=10).content))
    return [slide.shapes.title.text for slide in deck.slides]


def tree_titles(node: dict[str, Any]) -> list[str]:
    out = [node["name"]] if node["level"] in (1, 2, 3) else []
    for child in node.get("children") or []:
        out += tree_titles(child)
    return out


def test_the_docmee_flow(server: Server, key: str, other_key: str) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    post = lambda path, body: requests.post(server.url + BASE + path, json=body,  # noqa: E731
                                            headers=auth, timeout=120)  # fmt: skip
    listed = post("/templates", {"page": 1, "size": 2}).json()
    assert listed["code"] == 0 and len(listed["data"]) == 2 and listed["total"] >= 4
    assert len(post("/randomTemplates", {"size": 3}).json()["data"]) == 3

    streamed = events(post("/generateOutline", {"subject": "The history of tea"}))
    assert streamed[-1]["status"] == 4 and all(e["status"] == 3 for e in streamed[:-1])
    markdown = "".join(e["text"] for e in streamed)
    heads = [line.lstrip("#").strip() for line in markdown.splitlines() if line[:4] != "####"]
    assert heads == tree_titles(streamed[-1]["result"]) and len(heads) >= 7

    content = events(post("/generateContent", {"outlineMarkdown": markdown, "asyncGenPptx": True,
                                               "templateId": "midnight"}))  # fmt: skip
    ppt_id = content[-1]["pptId"]
    for _ in range(300):
        progress = requests.get(server.url + BASE + "/asyncPptInfo", params={"pptId": ppt_id},
                                headers=auth, timeout=10).json()["data"]  # fmt: skip
        if progress["current"] == progress["total"]:
            break
        time.sleep(0.1)
    assert progress["pptxProperty"]["template"] == "midnight"
    got = post("/downloadPptx", {"id": ppt_id}).json()["data"]
    assert titles_of(got["fileUrl"]) == heads

    outline = "# Tea\n## Origins\n### China\n- Shennong"
    made = post("/generatePptx", {"templateId": "sunrise", "outlineContentMarkdown": outline})
    direct = made.json()["data"]["pptInfo"]
    assert titles_of(direct["fileUrl"]) == ["Tea", "Origins", "China"]
    decks = post("/listPptx", {"page": 1, "size": 10}).json()
    assert {d["id"] for d in decks["data"]} >= {ppt_id, direct["id"]}

    loaded = requests.get(server.url + BASE + "/loadPptx", params={"id": direct["id"]},
                          headers=auth, timeout=30).json()["data"]["pptInfo"]  # fmt: skip
    prop = loaded["pptxProperty"]
    prop["chapters"][0]["pages"].append({"title": "Japan", "points": ["Matcha"]})
    saved = post("/savePptx", {"id": direct["id"], "pptxProperty": prop}).json()["data"]["pptInfo"]
    assert saved["id"] == direct["id"] and titles_of(saved["fileUrl"])[-1] == "Japan"
    again = post("/downloadPptx", {"id": direct["id"]}).json()["data"]
    assert titles_of(again["fileUrl"]) == ["Tea", "Origins", "China", "Japan"]
    moved = post("/updatePptTemplate", {"pptId": direct["id"], "templateId": "forest"}).json()
    assert moved["data"]["pptInfo"]["templateId"] == "forest"
    renamed = post("/updatePptxAttr", {"id": direct["id"], "subject": "Tea, a history"}).json()
    assert titles_of(renamed["data"]["pptInfo"]["fileUrl"])[0] == "Tea, a history"

    file = requests.get(again["fileUrl"], timeout=10).content
    as_json = requests.post(server.url + "/api/ppt/ppt2json", headers={"token": key}, timeout=30,
                            files={"file": ("deck.pptx", file)}).json()["data"]  # fmt: skip
    assert as_json["pptxProperty"]["chapters"][0]["pages"][1]["title"] == "Japan"
    made = post("/json2ppt", {"pptxProperty": as_json["pptxProperty"]}).json()["data"]["pptInfo"]
    assert titles_of(made["fileUrl"]) == ["Tea", "Origins", "China", "Japan"]

    theirs = requests.get(server.url + BASE + "/loadPptx", params={"id": direct["id"]},
                          headers={"Authorization": f"Bearer {other_key}"}, timeout=10)  # fmt: skip
    assert theirs.status_code == 404 and theirs.json()["code"] == 404
    bad = post("/updatePptTemplate", {"pptId": direct["id"], "templateId": "neon"})
    assert bad.status_code == 400 and "templateId" in bad.json()["message"]
    bad = post("/generatePptx", {"outlineContentMarkdown": "no headings"})
    assert bad.status_code in (400, 422) and "outline" in bad.text
