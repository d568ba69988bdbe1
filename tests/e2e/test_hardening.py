"""Hardening round 3 (issue 27) on a real server: pixel bombs neither stall nor bloat it, the
keyless /mj/image serves only what it should, secrets are not on disk in clear, the vendor
dialects and the console refuse what they must."""

from __future__ import annotations

import http.server
import io
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from tests.bombs import data_url, png, png_bomb, truncated_png, webp_bomb
from tests.helpers import Server, mj_done, run_cli, wait_done


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # At info, so the access log (the NUL test) is written.
    server = Server(tmp_path_factory.mktemp("hard"), latency=0.1, MEDIAGATE_LOG_LEVEL="info")
    server.start()
    yield server
    server.stop()
    log = server.log.read_bytes()
    assert b"Traceback" not in log and b"\x00" not in log, log[-3000:]


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(c) for c in text]
    return found


class BombHost:
    """Serves the PNG bomb over HTTP, for the inputs fetched by URL."""

    def __init__(self) -> None:
        body = png_bomb()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/bomb.png"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def test_pixel_bombs_neither_stall_the_server_nor_swell_it(srv: Server) -> None:
    """Five keys send bombs (a 5.5 KB WebP and a 160 KB PNG claiming 144 and 169 MP, as data
    URLs, uploads and links) while /livez and another key's creates are timed."""
    assert srv.proc is not None
    host = BombHost()
    bombers = [srv.key() for _ in range(5)]
    other = srv.key()
    webp, png_b = data_url(webp_bomb(), "webp"), data_url(png_bomb())
    stop = time.monotonic() + 8
    answers: list[tuple[int, int, str]] = []
    linked: list[str] = []

    def bomb(i: int, key: str) -> None:
        n = 0
        while time.monotonic() < stop:
            n += 1
            kind = (i + n) % 4
            if kind == 0:
                body = {"model": "seedream-3", "prompt": "x", "images": [webp]}
                resp = requests.post(
                    srv.url + "/v1/media/create", json=body, headers=auth(key), timeout=30
                )
            elif kind == 1:
                files = {
                    "model": (None, "seedream-3"),
                    "prompt": (None, "x"),
                    "image": ("b.png", png_bomb(), "image/png"),
                }
                resp = requests.post(
                    srv.url + "/v1/images/edits", files=files, headers=auth(key), timeout=30
                )
            elif kind == 2:
                resp = requests.post(
                    srv.url + "/mj/submit/blend",
                    json={"base64Array": [png_b, webp]},
                    headers=auth(key),
                    timeout=30,
                )
            else:
                body = {"model": "seedream-3", "prompt": "x", "images": [host.url]}
                resp = requests.post(
                    srv.url + "/v1/media/create", json=body, headers=auth(key), timeout=30
                )
                if resp.status_code == 200:
                    linked.append(str(resp.json()["id"]))
                    continue
            answers.append((kind, resp.status_code, resp.text))

    threads = [threading.Thread(target=bomb, args=(i, k)) for i, k in enumerate(bombers)]
    for t in threads:
        t.start()
    livez: list[float] = []
    creates: list[float] = []
    peak = 0.0
    while time.monotonic() < stop:
        started = time.perf_counter()
        assert requests.get(srv.url + "/livez", timeout=10).status_code == 200
        livez.append(time.perf_counter() - started)
        started = time.perf_counter()
        made = requests.post(
            srv.url + "/v1/media/create",
            json={"model": "seedream-3", "prompt": "a calm lake"},
            headers={"Authorization": other},
            timeout=10,
        )
        creates.append(time.perf_counter() - started)
        assert made.status_code == 200, made.text
        peak = max(peak, rss_mb(srv.proc.pid), *(rss_mb(c) for c in children(srv.proc.pid)))
        time.sleep(0.02)
    for t in threads:
        t.join()
    assert answers and all(status == 400 for _, status, _ in answers), answers[:3]
    # Each names the field as its dialect does: gptunnel's images, OpenAI's image,
    # Midjourney's base64Array.
    named = {0: "images[0]:", 1: "image[0]:", 2: "base64Array[0]:"}
    assert all(named[kind] in text for kind, _, text in answers), answers[:3]
    assert {k for k, _, _ in answers} == {0, 1, 2}
    assert any("144.0 MP" in t for _, _, t in answers) and any(
        "169.0 MP" in t for _, _, t in answers
    )
    print(
        f"bombs answered: {len(answers)} + {len(linked)} linked; /livez p99 "
        f"{p99(livez) * 1000:.1f} ms, other key's create p99 {p99(creates) * 1000:.1f} ms, "
        f"peak RSS {peak:.0f} MB"
    )
    assert p99(livez) < 0.1 and p99(creates) < 0.1
    assert peak < 600


def test_a_bomb_behind_a_link_fails_its_task_as_bad_input(srv: Server) -> None:
    host = BombHost()
    key = srv.key()
    made = requests.post(
        srv.url + "/v1/media/create",
        json={"model": "seedream-3", "prompt": "x", "images": [host.url]},
        headers={"Authorization": key},
        timeout=10,
    )
    assert made.status_code == 200, made.text
    task = wait_done(srv.url, key, str(made.json()["id"]))
    assert task["status"] == "failed" and task["error_code"] == "invalid_input"
    assert "13000x13000" in str(task["error"]) and "40 MP" in str(task["error"])


def imagine(srv: Server, key: str) -> str:
    made = requests.post(
        srv.url + "/mj/submit/imagine",
        json={"prompt": "a lighthouse"},
        headers=auth(key),
        timeout=10,
    )
    assert made.json()["code"] == 1, made.text
    task_id = str(made.json()["result"])
    mj_done(srv.url, key, task_id)
    return task_id


def test_mj_image_serves_midjourney_tasks_only_and_not_a_revoked_keys(srv: Server) -> None:
    key = srv.key()
    other = requests.post(
        srv.url + "/v1/media/create",
        json={"model": "seedream-3", "prompt": "not midjourney"},
        headers={"Authorization": key},
        timeout=10,
    ).json()["id"]
    assert wait_done(srv.url, key, other)["status"] == "done"
    refused = requests.get(f"{srv.url}/mj/image/{other}", timeout=10)
    assert refused.status_code == 404 and refused.json() == {"error": "midjourney_task_not_found"}
    task_id = imagine(srv, key)
    found = requests.get(f"{srv.url}/mj/image/{task_id}", timeout=10, allow_redirects=False)
    assert found.status_code == 302 and "/v1/files/t/" in found.headers["location"]
    assert requests.get(f"{srv.url}/mj/image/{task_id}", timeout=10).content[:4] == b"\x89PNG"
    assert requests.get(f"{srv.url}/mj-fast/mj/image/{task_id}", timeout=10).status_code == 200
    srv.cli("keys", "revoke", key[:16])
    gone = requests.get(f"{srv.url}/mj/image/{task_id}", timeout=10, allow_redirects=False)
    assert gone.status_code == 404


def test_mj_image_ends_with_the_link_lifetime(tmp_path: Path) -> None:
    server = Server(tmp_path, latency=0.1, MEDIAGATE_URL_TTL_S="3").start()
    try:
        key = server.key()
        task_id = imagine(server, key)
        found = requests.get(f"{server.url}/mj/image/{task_id}", timeout=10, allow_redirects=False)
        assert found.status_code == 302 and "exp=" in found.headers["location"]
        time.sleep(3.5)
        late = requests.get(f"{server.url}/mj/image/{task_id}", timeout=10, allow_redirects=False)
        assert late.status_code == 404
    finally:
        server.stop()


def test_secrets_are_sealed_on_disk_and_never_echoed(tmp_path: Path) -> None:
    data = tmp_path / "deploy"
    made = run_cli("init", "--data-dir", str(data), data_dir=None)
    assert made.returncode == 0, made.stderr
    assert (data.stat().st_mode & 0o777) == 0o700
    assert ((data / "mediagate.db").stat().st_mode & 0o777) == 0o600
    server = Server(data, latency=0.1).start()
    try:
        admin = {"Authorization": server.key("admin")}
        canary = "sk-canary-0123456789abcdefghij"
        added = requests.post(
            server.url + "/v1/admin/channels",
            json={"provider": "ark", "api_key": canary, "name": "c", "base_url": "http://a.test"},
            headers=admin,
            timeout=10,
        )
        assert added.status_code == 201, added.text
        listed = requests.get(server.url + "/v1/admin/channels", headers=admin, timeout=10).text
        assert canary not in listed and canary[-4:] in listed and canary[:8] not in listed
        secret = requests.post(
            server.url + "/v1/webhooks/secret", headers=auth(server.key()), timeout=10
        ).json()["webhook_secret"]
        on_disk = b"".join(p.read_bytes() for p in data.glob("mediagate.db*"))
        assert canary.encode() not in on_disk and secret.encode() not in on_disk
        assert b"sealed:v1:" in on_disk
        assert ((data / "mediagate.db-wal").stat().st_mode & 0o777) == 0o600
    finally:
        server.stop()


def test_a_loose_data_dir_is_reported_at_start(tmp_path: Path) -> None:
    data = tmp_path / "loose"
    data.mkdir()
    data.chmod(0o755)
    server = Server(data, latency=0.1).start()
    server.stop()
    assert "readable by others: chmod 0700" in server.log.read_text()


@pytest.mark.parametrize("duration", ["²", "¹⁰", "٥", "５", "𝟓"])
def test_vendor_durations_in_other_scripts_are_a_400(srv: Server, duration: str) -> None:
    key = srv.key()
    kling = {"model_name": "kling-v2-6", "duration": duration}
    luma = {"model": "ray-2", "prompt": "x"}
    for path, body in [
        ("/kling/v1/videos/text2video", {**kling, "prompt": "x"}),
        ("/kling/v1/videos/image2video", {**kling, "image": data_url(png(64, 64))}),
        ("/luma/dream-machine/v1/generations", {**luma, "duration": duration + "s"}),
    ]:
        resp = requests.post(srv.url + path, json=body, headers=auth(key), timeout=10)
        assert resp.status_code == 400, (path, resp.status_code, resp.text)
        assert "duration" in resp.text


def test_an_unreadable_image_on_the_synchronous_routes_is_a_400(srv: Server) -> None:
    key = srv.key()
    for image in (truncated_png(), b"\x89PNG\r\n\x1a\n" + b"junk" * 10):
        stability = requests.post(
            f"{srv.url}/sd/v2beta/stable-image/generate/sd3",
            files={
                "prompt": (None, "x"),
                "mode": (None, "image-to-image"),
                "strength": (None, "0.5"),
                "image": ("i.png", image),
            },
            headers=auth(key),
            timeout=60,
        )
        assert stability.status_code == 400, stability.text
        assert "image" in stability.text
        ideogram = requests.post(
            f"{srv.url}/ideogram/remix",
            files={"image_request": (None, '{"prompt": "x"}'), "image_file": ("a.png", image)},
            headers={"Api-Key": key},
            timeout=60,
        )
        assert ideogram.status_code == 400, ideogram.text


def test_uploads_are_served_checked_and_counted(tmp_path: Path) -> None:
    quota = 3 * len(png(300, 300, (1, 2, 3)))
    server = Server(tmp_path, latency=0.1, MEDIAGATE_UPLOAD_QUOTA_BYTES=str(quota)).start()
    try:
        key = server.key()

        def upload(*images: bytes) -> requests.Response:
            body = {"base64Array": [data_url(i) for i in images]}
            return requests.post(
                server.url + "/mj/submit/upload-discord-images",
                json=body,
                headers=auth(key),
                timeout=10,
            )

        first = upload(png(300, 300, (1, 2, 3)), png(300, 300, (4, 5, 6)))
        assert first.json()["code"] == 1, first.text
        for link in first.json()["result"]:
            got = requests.get(link, timeout=10)
            assert got.status_code == 200 and got.headers["content-type"] == "image/png"
            assert got.headers["x-content-type-options"] == "nosniff"
            assert Image.open(io.BytesIO(got.content)).size == (300, 300)
        cut = upload(truncated_png())
        assert cut.status_code == 400 and "base64Array[0]" in cut.text
        over = upload(png(300, 300, (7, 8, 9)), png(300, 300, (9, 9, 9)))
        assert over.status_code == 429 and "quota" in over.text
    finally:
        server.stop()


def console_session(srv: Server, key: str) -> tuple[requests.Session, str]:
    browser = requests.Session()
    signed = browser.post(srv.url + "/console/login", data={"key": key}, timeout=10)
    assert signed.status_code == 200 and "/console/playground" in signed.url
    csrf = re.search(r'name="csrf" value="([^"]+)"', signed.text)
    assert csrf is not None
    return browser, csrf.group(1)


def test_console_logout_ends_the_session_on_the_server(srv: Server) -> None:
    browser, csrf = console_session(srv, srv.key())
    stolen = dict(browser.cookies)
    out = browser.post(srv.url + "/console/logout", data={"csrf": csrf}, timeout=10)
    assert out.url.endswith("/console/login")
    replayed = requests.get(srv.url + "/console/playground", cookies=stolen, timeout=10)
    assert replayed.url.endswith("/console/login")  # the copied cookie no longer works


def test_console_login_checks_origin_and_pages_refuse_framing(srv: Server) -> None:
    key = srv.key()
    forged = requests.post(
        srv.url + "/console/login",
        data={"key": key},
        headers={"Origin": "https://evil.example"},
        timeout=10,
        allow_redirects=False,
    )
    assert forged.status_code == 403 and "set-cookie" not in forged.headers
    page = requests.get(srv.url + "/console/login", timeout=10)
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    for path in ("/no-such-page", "/console/static/no-such.js", "/v1/nothing"):
        unmatched = requests.get(srv.url + path, timeout=10)  # no route: no route middleware
        assert unmatched.status_code == 404, path
        assert unmatched.headers["x-content-type-options"] == "nosniff", path
        assert unmatched.headers["x-frame-options"] == "DENY", path
        assert len(unmatched.headers["x-request-id"]) == 32, path
    wrong = requests.delete(srv.url + "/livez", timeout=10)
    assert wrong.status_code == 405 and wrong.headers["x-frame-options"] == "DENY"


def test_forwarded_https_from_a_trusted_proxy_makes_the_cookie_secure(srv: Server) -> None:
    key = srv.key()
    plain = requests.post(
        srv.url + "/console/login", data={"key": key}, timeout=10, allow_redirects=False
    )
    assert "secure" not in plain.headers["set-cookie"].lower()
    proxied = requests.post(
        srv.url + "/console/login",
        data={"key": key},
        headers={"Forwarded": 'for=203.0.113.9;proto="https";host=gw.example'},
        timeout=10,
        allow_redirects=False,
    )
    assert "secure" in proxied.headers["set-cookie"].lower()


def test_a_nul_in_a_path_is_escaped_in_the_log(srv: Server) -> None:
    requests.get(srv.url + "/mj/task/%00nul/fetch", headers=auth(srv.key()), timeout=10)
    time.sleep(0.2)
    log = srv.log.read_bytes()
    assert b"\x00" not in log and b"\\x00nul" in log
