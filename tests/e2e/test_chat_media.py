"""Pictures made in chat (issue 22, GPTNB's gpt-4-all): a chat completion whose model is a
media model runs it as a task and answers in markdown, with links that download real files,
plain and streamed (progress lines, then the links); failures are errors, not pictures."""

from __future__ import annotations

import base64
import io
import re

import openai
import requests
from PIL import Image

from tests.helpers import Server

LINK = re.compile(r"!\[image (\d+)\]\((http[^)]+)\)")


def picture(url: str) -> Image.Image:
    got = requests.get(url, timeout=10)
    assert got.status_code == 200, got.text
    image = Image.open(io.BytesIO(got.content))
    image.load()
    return image


def test_chat_with_a_media_model_answers_with_pictures(server: Server, key: str) -> None:
    with openai.OpenAI(api_key=key, base_url=server.url + "/v1", max_retries=0) as c:
        said = [{"role": "system", "content": "draw well"},
                {"role": "user", "content": "a lighthouse at dusk"}]  # fmt: skip
        plain = c.chat.completions.create(model="seedream-3", messages=said)  # type: ignore[arg-type]
        content = plain.choices[0].message.content or ""
        links = LINK.findall(content)
        assert links and "task: `" in content and plain.choices[0].finish_reason == "stop"
        image = picture(links[0][1])
        assert image.width >= 256 and image.height >= 256
        task_id = re.search(r"task: `([^`]+)`", content).group(1)  # type: ignore[union-attr]
        task = requests.get(
            server.url + "/v1/media/result", params={"task_id": task_id},
            headers={"Authorization": key}, timeout=10,
        ).json()  # fmt: skip
        assert task["status"] == "done" and task["prompt"] == "a lighthouse at dusk"
        chunks = list(c.chat.completions.create(model="gpt-4-all", messages=said, stream=True))  # type: ignore[arg-type]
        text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
        assert "queued" in text and "%" in text  # progress while the task ran
        streamed = LINK.findall(text)
        assert streamed and picture(streamed[0][1]).width >= 256
        assert chunks[-1].choices[0].finish_reason == "stop"
        buf = io.BytesIO()
        Image.new("RGB", (320, 320), (200, 30, 30)).save(buf, "PNG")
        url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
        edit = c.chat.completions.create(
            model="seedream-3",
            messages=[{"role": "user", "content": [  # type: ignore[list-item]
                {"type": "text", "text": "make it blue"},
                {"type": "image_url", "image_url": {"url": url}}]}],
        )  # fmt: skip
        assert LINK.findall(edit.choices[0].message.content or "")
        try:
            c.chat.completions.create(
                model="seedream-3",
                messages=[{"role": "user", "content": "x [sandbox:content-rejected]"}],
            )
            raise AssertionError("a rejected picture was answered")
        except openai.APIStatusError as exc:
            assert exc.status_code == 400 and "content policy" in str(exc)
