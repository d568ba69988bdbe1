"""The web console in a real browser: Playwright (PyPI) drives Debian's Chromium at
/usr/bin/chromium. The tests walk a person's path: sign in; make an image and a video on the
sandbox, watching the progress; find them in the gallery and play the video; then as admin
create an account and a key, top up, find a task in the log and replay its webhook.
Screenshots go to ``MEDIAGATE_SCREENSHOTS`` when set (the README's come from there)."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect, sync_playwright

from mediagate.core.money import text as money_text
from tests.helpers import Server, free_port, wait_done

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("MEDIAGATE_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


# What a chart shows: for each day, the values its legend prints with the pointer on that day
# (uPlot's legend, the first cell the day), read by moving the chart's cursor in the page.
LEGEND = """(id) => {
  const u = window.mediagateCharts[id];
  const out = [];
  for (let i = 0; i < u.data[0].length; i++) {
    u.setCursor({left: u.valToPos(u.data[0][i], "x"), top: 10});
    out.push([...u.root.querySelectorAll(".u-legend .u-series .u-value")].map(e => e.textContent));
  }
  return out;
}"""


def chart_legend(page: Page, chart: str) -> dict[str, list[str]]:
    """Each day's legend values on ``chart`` (a uPlot drawn from usage rows), by day."""
    page.wait_for_function(f"window.mediagateCharts && window.mediagateCharts['{chart}']")
    box = page.locator(f"#{chart} canvas").bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100  # drawn, visible
    return {row[0]: row[1:] for row in page.evaluate(LEGEND, chart)}


def sign_in(page: Page, server: Server, key: str) -> None:
    page.goto(server.url + "/console")
    expect(page).to_have_url(server.url + "/console/login")
    page.fill("#key", key)
    shot(page, "01-sign-in")
    page.click("#sign-in")
    page.wait_for_url(lambda url: "/console/login" not in url)  # signed in, the page loaded
    page.wait_for_load_state()


def generate(page: Page, server: Server, model: str) -> str:
    page.goto(f"{server.url}/console/playground?model={model}")
    page.fill("#prompt", f"a lighthouse at dusk, {model}")
    page.click("#generate")
    page.wait_for_url("**/console/tasks/*")
    task_id = page.inner_text("#task-id")
    seen = set()
    deadline = time.monotonic() + 60
    while page.locator("#card[data-done]").count() == 0:  # htmx polls the card while it runs
        assert time.monotonic() < deadline, "the task did not finish in the browser"
        seen.add(page.locator("#percent").inner_text())
        page.wait_for_timeout(150)
    seen.add(page.locator("#percent").inner_text())
    assert "100%" in seen and len(seen) >= 2, seen  # progress moved while we watched
    return task_id


def test_a_person_makes_an_image_and_a_video_and_plays_it(page: Page, server: Server) -> None:
    key = server.key("test")
    sign_in(page, server, key)
    expect(page).to_have_url(server.url + "/console/playground")
    expect(page.locator("#model")).to_be_visible()
    shot(page, "02-playground")
    image_id = generate(page, server, "seedream-3")
    page.goto(f"{server.url}/console/tasks/{image_id}")
    expect(page.locator("img.result")).to_have_count(1)
    assert page.evaluate("document.querySelector('img.result').naturalWidth") == 1024
    shot(page, "03-image")
    video_id = generate(page, server, "seedance-1-lite-480P-5s")
    page.goto(f"{server.url}/console/tasks/{video_id}")
    page.wait_for_function("document.querySelector('video.result').readyState >= 2")
    page.evaluate("document.querySelector('video.result').muted = true")
    page.evaluate("document.querySelector('video.result').play()")
    page.wait_for_function("document.querySelector('video.result').currentTime > 0.3")
    assert page.evaluate("document.querySelector('video.result').duration") == pytest.approx(
        5, abs=0.1
    )
    shot(page, "04-video")
    page.goto(server.url + "/console/tasks")
    tiles = page.locator(".tile")
    expect(page.locator(f'.tile[data-task="{image_id}"] img')).to_be_visible()
    expect(page.locator(f'.tile[data-task="{video_id}"] video')).to_have_count(1)
    assert tiles.count() >= 2
    page.fill("#search", "seedance")
    page.click("#filter")
    expect(page.locator(".tile")).to_have_count(1)
    page.fill("#since", "2001-01-01")
    page.fill("#until", "2001-01-02")
    page.click("#filter")
    expect(page.locator(".tile")).to_have_count(0)  # nothing was made that day
    shot(page, "05-gallery")
    page.click("#sign-out")
    expect(page).to_have_url(server.url + "/console/login")
    page.goto(server.url + "/console/tasks")
    expect(page).to_have_url(server.url + "/console/login")  # the session is gone


def test_a_follow_up_button_on_a_midjourney_grid(page: Page, server: Server) -> None:
    sign_in(page, server, server.key("test"))
    grid = generate(page, server, "midjourney")
    page.goto(f"{server.url}/console/tasks/{grid}")
    page.click('button.act[data-action="upscale2"]')
    page.wait_for_url("**/console/tasks/*")
    assert page.inner_text("#task-id") != grid
    expect(page.locator("#task-status")).not_to_have_text("failed")


class Receiver:
    def __init__(self) -> None:
        self.got: list[bytes] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                owner.got.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.http = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


def test_an_admin_runs_the_gateway(page: Page, server: Server) -> None:
    hook = Receiver()
    try:
        user = server.key("test")
        made = requests.post(
            server.url + "/v1/media/create",
            json={"model": "seedream-3", "prompt": "a hooked kite", "callback_url": hook.url},
            headers={"Authorization": user},
            timeout=10,
        ).json()
        deadline = time.monotonic() + 30
        while not hook.got:
            assert time.monotonic() < deadline, "the first delivery never came"
            time.sleep(0.1)
        sign_in(page, server, server.key("admin"))
        expect(page).to_have_url(server.url + "/console/tasks")
        page.click("text=Accounts")
        page.fill("#account-name", "Acme")
        page.click("#create-account")
        page.wait_for_url("**/console/admin/accounts/acct_*")
        page.fill("#topup-amount", "25.5")
        page.click("#topup")
        expect(page.locator("#balance")).to_have_text("25.5")
        expect(page.locator("table.ledger")).to_contain_text("topup")
        shot(page, "06-account")
        account_id = page.url.rsplit("/", 1)[1]
        page.click("text=Keys")
        page.select_option("#key-mode", "live")
        page.fill("#key-name", "acme-bot")
        page.select_option("#key-account", account_id)
        page.click("#create-key")
        new_key = page.inner_text("#new-key")
        assert new_key.startswith("mg_live_")
        balance = requests.get(
            server.url + "/v1/balance", headers={"Authorization": new_key}, timeout=10
        ).json()
        assert float(balance["balance"]) == 25.5  # the key works, on that account
        shot(page, "07-keys")
        page.goto(server.url + "/console/tasks?view=log")
        page.fill("#search", made["id"])
        page.click("#filter")
        page.click(f"text={made['id']}")
        expect(page.locator("#money")).to_contain_text("price")  # admins see money
        page.click("button.replay")
        deadline = time.monotonic() + 30
        while len(hook.got) < 2:
            assert time.monotonic() < deadline, "the replayed delivery never came"
            time.sleep(0.1)
        shot(page, "08-task")
        page.click("text=Ledger check")
        expect(page.locator("#ledger-ok")).to_be_visible()
    finally:
        hook.http.shutdown()


def test_admins_try_models_on_the_sandbox_and_revoked_keys_lose_their_session(
    page: Page, server: Server
) -> None:
    """An admin's key never generates: the admin's playground runs as a test key of its
    account, made once, on the sandbox."""
    admin = server.key("admin")
    sign_in(page, server, admin)
    page.goto(server.url + "/console/playground?model=seedream-3")
    page.fill("#prompt", "a lighthouse for the admin")
    page.click("#generate")
    expect(page).to_have_url(re.compile(r".*/console/tasks/[0-9a-f]+$"))
    task_id = page.url.rsplit("/", 1)[1]
    task = requests.get(server.url + f"/v1/admin/tasks/{task_id}",
                        headers={"Authorization": admin}, timeout=10).json()  # fmt: skip
    assert task["mode"] == "test" and task["key_id"] != admin[:16]
    key = server.key("test")
    page.goto(server.url + "/console/tasks")
    page.click("#sign-out")
    sign_in(page, server, key)
    expect(page).to_have_url(server.url + "/console/playground")
    prefix = key[:16]
    requests.delete(
        f"{server.url}/v1/admin/keys/{prefix}", headers={"Authorization": admin}, timeout=10
    )
    time.sleep(2.5)  # past the key cache
    page.goto(server.url + "/console/tasks")
    expect(page).to_have_url(server.url + "/console/login")
    bad = requests.post(server.url + "/console/login", data={"key": "nope"}, timeout=10)
    assert bad.status_code == 401 and "invalid API key" in bad.text


def test_an_admin_manages_channels(page: Page, server: Server) -> None:
    sign_in(page, server, server.key("admin"))
    page.click("text=Channels")
    page.fill("#channel-provider", "ark")
    page.fill("#channel-key", "ark-console")
    page.fill("#channel-base", f"http://127.0.0.1:{free_port()}/api/v3")  # nothing listens
    page.click("#add-channel")
    row = page.locator("tr.channel").last
    expect(row.locator(".state")).to_have_text("enabled")
    row.locator("button.test").click()
    expect(page.locator("#tested")).to_contain_text("failed")
    page.locator("tr.channel").last.locator("button.disable").click()
    expect(page.locator("tr.channel").last.locator(".state")).to_contain_text("by hand")
    expect(page.locator(".timeline")).to_contain_text("disabled")
    shot(page, "09-channels")


def test_a_person_chats_and_reads_the_request_log(page: Page, server: Server) -> None:
    """The chat tab streams a sandbox reply, tools included; the request log shows it, under
    a chart of tokens and spend per day that shows what the usage API says."""
    key = server.key()
    sign_in(page, server, key)
    page.goto(server.url + "/console/chat")
    page.select_option("#chat-model", "gpt-4o")
    page.fill("#chat-message", "tell me about lighthouses")
    page.fill("#chat-max-tokens", "12")
    page.click("#chat-send")
    expect(page.locator("#chat-reply")).to_have_attribute("data-done", "1", timeout=15_000)
    reply = page.inner_text("#chat-reply")
    assert "lighthouses" in reply and "completion tokens" in reply
    schema = {"type": "object", "properties": {"q": {"type": "string"}}}
    tools = json.dumps([{"type": "function", "function": {"name": "lookup", "parameters": schema}}])
    page.fill("#chat-message", "please lookup lighthouses")
    page.fill("#chat-tools", tools)
    page.click("#chat-send")
    expect(page.locator("#chat-reply")).to_have_attribute("data-done", "1", timeout=15_000)
    expect(page.locator("#chat-reply")).to_contain_text("[tool call: lookup]")
    shot(page, "09-chat")
    page.fill("#chat-tools", "not json")
    page.click("#chat-send")
    expect(page.locator("#chat-reply")).to_contain_text("tools", timeout=15_000)
    rows = page.locator("#request-log tbody tr")
    deadline = time.monotonic() + 10
    while True:  # the log is written in batches: a moment after the replies end
        page.goto(server.url + "/console/requests")
        if rows.count() == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("gpt-4o")
    expect(rows.first.locator(".ending")).to_have_text("completed")
    usage = requests.get(
        server.url + "/v1/usage", params={"group_by": "day"},
        headers={"Authorization": key}, timeout=10,
    ).json()["data"]  # fmt: skip
    shown = chart_legend(page, "day-chart")  # tokens and spend, as the chart shows them
    assert shown == {
        u["group"]: [str(u["tokens"]), money_text(u["amount_micros"])]
        for u in usage
        if u["requests"]
    }
    assert all(int(tokens) > 0 for tokens, _ in shown.values())
    shot(page, "10-requests")


def test_a_person_tries_embeddings(page: Page, server: Server) -> None:
    """Texts that share words come out nearer than texts that do not."""
    sign_in(page, server, server.key())
    page.goto(server.url + "/console/chat")
    page.select_option("#embed-model", "text-embedding-3-small")
    page.fill("#embed-dimensions", "64")
    page.fill("#embed-texts", "red fox jumps\nred fox sleeps\nquarterly tax report")
    page.click("#embed-send")
    expect(page.locator("#embed-summary")).to_contain_text("3 vectors of 64 dimensions")
    cells = page.locator("#embed-similarity tr").nth(1).locator("td.sim")
    near, far = float(cells.nth(1).inner_text()), float(cells.nth(2).inner_text())
    assert float(cells.nth(0).inner_text()) == 1.0 and near > far
    shot(page, "11-embeddings")
    page.fill("#embed-dimensions", "")
    page.fill("#embed-texts", " ")
    page.click("#embed-send")
    expect(page.locator("#embed-summary")).to_contain_text("texts")


def test_a_person_speaks_transcribes_and_talks_in_realtime(
    page: Page, server: Server, tmp_path: Path
) -> None:
    """The audio page: speech plays, the sandbox's own speech comes back as its text, a
    realtime text session answers, and the request log shows characters and minutes."""
    key = server.key()
    sign_in(page, server, key)
    page.goto(server.url + "/console/audio")
    page.fill("#tts-input", "Lighthouses guide the ships home.")
    page.select_option("#tts-voice", "nova")
    page.click("#tts-send")
    expect(page.locator("#tts-state")).to_contain_text("bytes of audio/mpeg", timeout=15_000)
    assert page.eval_on_selector("#tts-player", "p => p.src.startsWith('blob:')")
    spoken = requests.post(
        server.url + "/v1/audio/speech", headers={"Authorization": key}, timeout=30,
        json={"model": "tts-1", "voice": "nova", "input": "Lighthouses guide the ships home."},
    )  # fmt: skip
    (tmp_path / "speech.mp3").write_bytes(spoken.content)
    page.set_input_files("#stt-file", str(tmp_path / "speech.mp3"))
    page.click("#stt-send")
    expect(page.locator("#stt-text")).to_have_attribute("data-done", "1", timeout=15_000)
    expect(page.locator("#stt-text")).to_have_text("Lighthouses guide the ships home.")
    page.fill("#rt-say", "tell me about lighthouses")
    page.click("#rt-send")
    expect(page.locator("#rt-log")).to_have_attribute("data-done", "1", timeout=15_000)
    expect(page.locator("#rt-log")).to_contain_text("lighthouses")
    expect(page.locator("#rt-log")).to_contain_text(" out)")
    shot(page, "12-audio")
    cells = page.locator("#request-log td.audio")
    deadline = time.monotonic() + 10
    while True:  # written in batches
        page.goto(server.url + "/console/requests")
        texts = cells.all_inner_texts()
        if any("characters" in t for t in texts) and any("min" in t for t in texts):
            break
        assert time.monotonic() < deadline, texts
        time.sleep(0.2)


def test_an_admin_reads_a_month_of_usage_on_the_overview(
    page: Page, server: Server, tmp_path: Path
) -> None:
    """A month of usage (requests seeded on 30 days, and today's tasks) on the overview: each
    day's bar carries the usage API's numbers; it reads on a phone too."""
    import sqlite3
    import time as clock

    admin = server.key("admin")
    key = server.key()
    made = requests.post(
        server.url + "/v1/media/create", headers={"Authorization": key},
        json={"model": "seedream-3", "prompt": "a lake"}, timeout=10,
    ).json()  # fmt: skip
    wait_done(server.url, key, made["id"])
    db = sqlite3.connect(server.data_dir / "mediagate.db")
    now = clock.time()
    with db:
        for day in range(1, 30):
            for n in range(day % 4 + 1):
                db.execute(
                    "INSERT INTO requests (id, key_id, account_id, mode, route, model, provider,"
                    " upstream_model, stream, status, ending, prompt_tokens, cached_tokens,"
                    " completion_tokens, counted, cost_micros, ttft_ms, total_ms, overhead_ms,"
                    " error, created_at, characters, audio_ms) VALUES (?, 'k1', 'acct_seed',"
                    " 'live', 'chat.completions', 'gpt-4o-mini', 'openai', 'gpt-4o-mini', 0, 200,"
                    " 'completed', 10, 0, ?, 0, ?, 50, 120, 1, '', ?, 0, 0)",
                    (f"req_seed_{day}_{n}", 5 * day, 100 * day + n, now - day * 86400),
                )
    db.close()
    usage = requests.get(server.url + "/v1/admin/usage", headers={"Authorization": admin},
                         params={"group_by": "day", "from": str(int(now - 30 * 86400))},
                         timeout=10).json()["data"]  # fmt: skip
    assert len(usage) >= 29
    sign_in(page, server, admin)
    page.click("text=Overview")
    # The chart shows, under the pointer on each day, the usage API's numbers for that day.
    assert chart_legend(page, "day-chart") == {
        row["group"]: [str(row["tasks"]), str(row.get("requests", 0)), str(row["failed"]),
                       money_text(row["amount_micros"])]
        for row in usage
    }  # fmt: skip
    page.click("#day-chart + figcaption + details summary")  # the numbers, as a table
    expect(page.locator("#day-chart-table tbody tr")).to_have_count(len(usage))
    total = sum(r.get("requests", 0) for r in usage)
    expect(page.locator("#total-requests")).to_have_text(str(total))
    expect(page.locator("#latency")).to_contain_text("relayed requests")
    page.click('a[href="?group=key"]')
    expect(page.locator("#parts")).to_contain_text("k1")
    page.keyboard.press("Tab")  # keyboard-usable: focus moves to the first link
    assert page.evaluate("document.activeElement.tagName") in ("A", "BUTTON")
    shot(page, "13-overview")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, width  # nothing runs off the side
    shot(page, "14-overview-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.click("text=Gallery & task log")  # the admin's gallery: every account's files
    expect(page.locator("h1")).to_have_text("Gallery: every account")
    expect(page.locator(f'.tile[data-task="{made["id"]}"] img')).to_be_visible()


def test_an_admin_sets_a_models_price_and_live_tasks_hold_it(page: Page, tmp_path: Path) -> None:
    """The models page lists each model with its routes; a price set there is what a live
    task holds (here live keys run on the sandbox)."""
    server = Server(tmp_path / "data", MEDIAGATE_SANDBOX_LIVE="1").start()
    try:
        sign_in(page, server, server.key("admin"))
        page.click("text=Models")
        row = page.locator('tr.model[data-model="seedream-3"]')
        expect(row).to_contain_text("ark")  # its first route
        row.locator("input[name=price]").fill("0.07")
        row.locator("button").click()
        expect(page.locator('tr.model[data-model="seedream-3"] .price')).to_contain_text(
            "0.07 / image (set here)"
        )
        shot(page, "15-models")
        key = server.funded_live_key(10)
        made = requests.post(
            server.url + "/v1/media/create", headers={"Authorization": key},
            json={"model": "seedream-3", "prompt": "a lake"}, timeout=10,
        ).json()  # fmt: skip
        wait_done(server.url, key, made["id"])
        import sqlite3  # (server.rows runs an event loop: not beside Playwright's)

        with sqlite3.connect(server.data_dir / "mediagate.db") as db:
            charged = db.execute(
                "SELECT amount_micros FROM ledger WHERE task_id = ? AND kind = 'charge'",
                (made["id"],),
            ).fetchall()
        assert charged == [(-70_000,)]
        page.locator('tr.model[data-model="seedream-3"] input[name=price]').fill("")
        page.locator('tr.model[data-model="seedream-3"] button').click()
        expect(page.locator('tr.model[data-model="seedream-3"] .price')).not_to_contain_text(
            "set here"
        )
    finally:
        server.stop()


UNLABELLED = """() => [...document.querySelectorAll("input, select, textarea")]
  .filter(e => !["hidden", "submit", "button"].includes(e.type) && e.getClientRects().length)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute("aria-label")
               && !e.getAttribute("aria-labelledby"))
  .map(e => e.outerHTML.slice(0, 160))"""


@pytest.mark.parametrize("who", ["admin", "test"])
def test_every_console_page_labels_its_inputs_and_fits_a_phone(
    page: Page, server: Server, who: str
) -> None:
    """Each page in the menu, for an admin and for a person: every input has a label (a
    placeholder is not one), and on a phone nothing runs off the side of the page."""
    key = server.key(who)
    if who == "admin":  # a long name, in the keys page's account list too
        requests.post(server.url + "/v1/admin/accounts", headers={"Authorization": key},
                      json={"name": "Northern Lighthouse Board, media department"},
                      timeout=10).raise_for_status()  # fmt: skip
    sign_in(page, server, key)
    links = page.locator("header nav a").evaluate_all("els => els.map(e => e.pathname)")
    assert len(links) >= 5, links
    unlabelled: dict[str, list[str]] = {}
    too_wide: dict[str, int] = {}
    for phone in (False, True):
        page.set_viewport_size({"width": 390, "height": 844} if phone else
                               {"width": 1280, "height": 900})  # fmt: skip
        for path in links:
            page.goto(server.url + path)
            if found := page.evaluate(UNLABELLED):
                unlabelled[path] = found
            width = page.evaluate("document.documentElement.scrollWidth")
            if phone and width > 400:
                too_wide[path] = width
    assert unlabelled == {} and too_wide == {}, (unlabelled, too_wide)
