"""Result downloads (Range), GET /v1/models, /openapi.json, and the CLI end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests

from mediagate.core.catalogue import default_catalogue
from tests.helpers import Server, cli, wait_done
from tests.media import probe


def _done_url(server: Server, key: str, model: str, prompt: str) -> str:
    task_id = requests.post(
        server.url + "/v1/media/create",
        json={"model": model, "prompt": prompt},
        headers={"Authorization": key},
        timeout=10,
    ).json()["id"]
    return str(wait_done(server.url, key, task_id)["url"])


def test_range_requests_for_video_players(server: Server, key: str) -> None:
    url = _done_url(server, key, "seedance-1-lite-480P-5s", "ranges")
    whole = requests.get(url, timeout=30)
    assert whole.headers["accept-ranges"] == "bytes"
    assert int(whole.headers["content-length"]) == len(whole.content)
    part = requests.get(url, headers={"Range": "bytes=10-99"}, timeout=10)
    assert part.status_code == 206
    assert part.content == whole.content[10:100]
    assert part.headers["content-range"] == f"bytes 10-99/{len(whole.content)}"
    tail = requests.get(url, headers={"Range": "bytes=-16"}, timeout=10)
    assert tail.content == whole.content[-16:]
    beyond = requests.get(url, headers={"Range": f"bytes={len(whole.content) + 5}-"}, timeout=10)
    assert beyond.status_code == 416


def test_models_lists_the_catalogue(server: Server) -> None:
    body = requests.get(server.url + "/v1/models", timeout=5).json()
    assert body["object"] == "list"
    by_id = {m["id"]: m for m in body["data"]}
    assert by_id["google-imagen-3"]["sizes"]["21:9"] == [1568, 672]
    assert by_id["seedance-1-lite-480P-5s"]["durations"] == [5]
    assert by_id["veo-3.0-generate-preview"]["max_samples"] == 4
    # Without credentials only the gateway's own tools (the `local` provider) serve live keys.
    local = {m for m, spec in default_catalogue().models.items() if spec.family == "local"}
    local.discard("image-colorize")  # it needs a model: relays only
    assert all(m["sandbox"] and m["live"] == (m["id"] in local) for m in body["data"])
    assert by_id["image-cutout"]["live"] and not by_id["image-colorize"]["live"]


def test_openapi_describes_every_dialect(server: Server) -> None:
    spec = requests.get(server.url + "/openapi.json", timeout=5).json()
    assert spec["openapi"].startswith("3.")
    expected = {
        "/v1/media/create": {"post"},
        "/v1/media/result": {"get", "post"},
        "/v1/media/cancel": {"post"},
        "/v1/video/generations": {"post"},
        "/v1/video/generations/{task_id}": {"get"},
        "/v1/images/generations": {"post"},
        "/v1/images/edits": {"post"},
        "/v1/videos": {"get", "post"},
        "/v1/videos/{video_id}": {"get", "delete"},
        "/v1/videos/{video_id}/content": {"get"},
        "/v1/models": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(spec["paths"][path]), path
    tags = {t for item in spec["paths"].values() for op in item.values() for t in op["tags"]}
    assert {"gptunnel", "OpenAI images", "OpenAI videos"} <= tags


def test_docs_page_works_offline(server: Server) -> None:
    """/docs loads Swagger UI from this server, not from a CDN."""
    page = requests.get(server.url + "/docs", timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "cdn" not in page.text.lower() and "unpkg" not in page.text.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert f"/docs/assets/{asset}" in page.text
        got = requests.get(server.url + f"/docs/assets/{asset}", timeout=5)
        assert got.status_code == 200 and len(got.content) > 10_000
    bundle = requests.get(server.url + "/docs/assets/swagger-ui-bundle.js", timeout=5).text
    assert "OAS31" in bundle  # this Swagger UI renders the OpenAPI 3.1 that Litestar writes


def test_keys_create_prints_the_key_alone_and_stores_only_a_hash(tmp_path: Path) -> None:
    out = cli("keys", "create", "--test", "--name", "ci", data_dir=tmp_path)
    key = out.strip()
    assert out == key + "\n" and key.startswith("mg_test_")
    db = (tmp_path / "mediagate.db").read_bytes()
    assert key.encode() not in db
    listing = cli("keys", "list", data_dir=tmp_path)
    assert key[:16] in listing and key not in listing


def _generate(server: Server, key: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MEDIAGATE_API_KEY": key, "MEDIAGATE_BASE_URL": server.url}
    return subprocess.run(
        [sys.executable, "-m", "mediagate", "generate", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_generate_downloads_the_result(server: Server, key: str, tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    args = ["-m", "seedance-1-lite-480P-5s", "-p", "a dog on a bike", "--ar", "9:16"]
    proc = _generate(server, key, *args, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    info = probe(out.read_bytes())
    assert (info.width, info.height, info.duration) == (480, 864, 5.0)
    assert "saved" in proc.stderr


def test_generate_reports_a_validation_error(server: Server, key: str, tmp_path: Path) -> None:
    args = ["-m", "seedream-3", "-p", "x", "--ar", "21:9", "-o", str(tmp_path / "x.webp")]
    proc = _generate(server, key, *args)
    assert proc.returncode == 1
    assert "ar: '21:9' is not supported" in proc.stderr
    assert "Traceback" not in proc.stderr
