"""The console's tools page in Chromium: upload a picture, run a tool and see the result beside
the input (a cutout with alpha, an inpainting with its mask, OCR's text), and make a deck from
a topic: its outline, then its slides, with the file to download."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.test_console import browser, page, sign_in  # noqa: F401 (fixtures)
from tests.e2e.test_local_tools import mask, picture, words
from tests.helpers import Server


def run(page: Page, server: Server, model: str, files: dict[str, bytes], prompt: str = ""  # noqa: F811
        ) -> None:  # fmt: skip
    page.goto(f"{server.url}/console/tools?model={model}")
    for field, data in files.items():
        page.set_input_files(f"#{field}", {"name": f"{field}.png", "mimeType": "image/png",
                                           "buffer": data})  # fmt: skip
    if prompt:
        page.fill("#prompt", prompt)
    page.click("#run")
    page.wait_for_url(f"**/console/tools?model={model}&task=*")
    expect(page.locator("#status")).to_have_text("done", timeout=60_000)


def test_a_person_uses_the_tools_and_makes_a_deck(page: Page, server: Server, key: str,  # noqa: F811
                                                  tmp_path: Path) -> None:  # fmt: skip
    sign_in(page, server, key)
    run(page, server, "image-cutout", {"image": picture()})
    result = page.locator("#result-image")
    expect(result).to_be_visible()
    assert page.evaluate("document.querySelector('#result-image').naturalWidth") == 320
    assert page.locator("img.input-image").count() == 1  # the input, beside it

    run(page, server, "image-inpaint", {"image": picture(), "mask": mask()})
    assert page.locator("img.input-image").count() == 2 and result.is_visible()

    run(page, server, "image-ocr", {"image": words("Console reads this")})
    expect(page.locator("#ocr-text")).to_have_text("Console reads this")

    run(page, server, "ppt", {}, prompt="Rivers of Europe")
    outline = page.inner_text("#outline")
    titles = [line.lstrip("#").strip() for line in outline.splitlines() if line[:4] != "####"]
    expect(page.locator("#slides li")).to_have_count(len(titles))
    assert page.locator("#slides li").all_inner_texts() == titles
    with page.expect_download() as download:
        page.click("#result-file")
    saved = tmp_path / "deck.pptx"
    download.value.save_as(saved)
    from pptx import Presentation

    assert [s.shapes.title.text for s in Presentation(str(saved)).slides] == titles
    page.goto(f"{server.url}/console/tools?model=image-inpaint")
    page.click("#run")  # no files: the browser's own check stops it, nothing is sent
    assert "task=" not in page.url
