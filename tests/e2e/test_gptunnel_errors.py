"""Bad input of every kind gets a clear 4xx in gptunnel's shape; keys see only their tasks."""

from __future__ import annotations

import time

import pytest
import requests

from tests.helpers import Server, wait_done

URL_OK = "https://example.com/a.png"


def post(server: Server, path: str, key: str | None, **kw: object) -> requests.Response:
    headers = {"Authorization": key} if key is not None else {}
    return requests.post(server.url + path, headers=headers, timeout=10, **kw)  # type: ignore[arg-type]


def assert_error(resp: requests.Response, status: int, param: str | None, *words: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] != 0
    assert body["error"]["param"] == param
    message = body["message"]
    assert message == body["error"]["message"]
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    assert "Traceback" not in resp.text


INVALID = [
    ({"prompt": "x"}, "model", ["model", "required"]),
    ({"model": "seedream-3"}, "prompt", ["prompt", "required"]),
    ({"model": "seedream-3", "prompt": 5}, "prompt", ["prompt", "str"]),
    ({"model": "seedream-3", "prompt": "   "}, "prompt", ["prompt", "non-empty"]),
    ({"model": "seedream-3", "prompt": "x" * 9000}, "prompt", ["prompt", "8000"]),
    ({"model": "nope", "prompt": "x"}, "model", ["unknown model", "seedream-3", "google-imagen-3"]),
    (
        {"model": "seedream-3", "prompt": "x", "ar": "21:9"},
        "ar",
        ["21:9", "1:1, 16:9, 9:16, 4:3, 3:4"],
    ),
    ({"model": "google-imagen-3", "prompt": "x", "ar": "2:1"}, "ar", ["21:9", "9:21"]),
    ({"model": "glabs-veo-3-1-fast", "prompt": "x", "ar": "4:3"}, "ar", ["1:1, 16:9, 9:16"]),
    ({"model": "seedance-1-lite-480P-5s", "prompt": "x", "ar": 16}, "ar", ["ar", "str"]),
    ({"model": "google-imagen-3", "prompt": "x", "images": [URL_OK]}, "images", ["no image input"]),
    ({"model": "seedream-3", "prompt": "x", "images": [URL_OK, URL_OK]}, "images", ["at most 1"]),
    ({"model": "seedream-3", "prompt": "x", "images": "http://a/b.png"}, "images", ["array"]),
    ({"model": "seedream-3", "prompt": "x", "images": ["ftp://a/b.png"]}, "images[0]", ["http"]),
    (
        {"model": "seedream-3", "prompt": "x", "images": ["data:text/plain;base64,aGk="]},
        "images[0]",
        ["data:image"],
    ),
    (
        {"model": "seedream-3", "prompt": "x", "images": ["data:image/png;base64,@@@"]},
        "images[0]",
        ["base64"],
    ),
    (
        {"model": "seedance-1-lite-480P-5s", "prompt": "x", "duration_seconds": 10},
        "duration_seconds",
        ["allowed: 5"],
    ),
    ({"model": "seedream-3", "prompt": "x", "duration_seconds": 5}, "duration_seconds", ["images"]),
    (
        {"model": "veo-3.0-generate-preview", "prompt": "x", "sample_count": 5},
        "sample_count",
        ["1..4"],
    ),
    ({"model": "glabs-veo-3-1-fast", "prompt": "x", "sample_count": 2}, "sample_count", ["1..1"]),
]


@pytest.mark.parametrize(("body", "param", "words"), INVALID)
def test_invalid_create_names_the_field(
    server: Server, key: str, body: dict[str, object], param: str, words: list[str]
) -> None:
    assert_error(post(server, "/v1/media/create", key, json=body), 400, param, *words)


@pytest.mark.parametrize("raw", [b"not json", b"[1,2]", b"", b'{"model": "seedream-3",'])
def test_malformed_bodies_are_400(server: Server, key: str, raw: bytes) -> None:
    resp = post(server, "/v1/media/create", key, data=raw)
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] != 0


def test_nothing_is_queued_for_an_invalid_request(server: Server, key: str) -> None:
    post(server, "/v1/media/create", key, json={"model": "seedream-3", "prompt": "x", "ar": "7:1"})
    import sqlite3

    with sqlite3.connect(server.data_dir / "mediagate.db") as db:
        (n,) = db.execute("select count(*) from tasks where prompt = 'x'").fetchone()
    assert n == 0


@pytest.mark.parametrize("auth", [None, "", "wrong-key", "Bearer wrong", "mg_test_xxx"])
def test_bad_key_is_401_before_the_body_is_read(server: Server, auth: str | None) -> None:
    resp = post(server, "/v1/media/create", auth, data=b"{garbage")
    assert_error(resp, 401, None, "key")
    resp = requests.get(
        server.url + "/v1/media/result?task_id=x", headers={"Authorization": auth or ""}
    )
    assert resp.status_code == 401


def test_revoked_key_is_401(server: Server) -> None:
    """A revoke from another process (the CLI) takes effect within the key cache's bound
    (MEDIAGATE_KEY_CACHE_S, 2 s by default), even for a key the server has cached."""
    from tests.helpers import cli

    k = server.key()
    assert post(server, "/v1/media/create", k, json={"model": "seedream-3", "prompt": "r"}).ok
    cli("keys", "revoke", k[:16], data_dir=server.data_dir)
    revoked_at = time.monotonic()
    while True:
        resp = post(server, "/v1/media/create", k, json={"model": "seedream-3", "prompt": "r"})
        if resp.status_code == 401:
            break
        assert resp.ok and time.monotonic() - revoked_at < 2.0 + 0.5, resp.text
        time.sleep(0.05)
    assert_error(resp, 401, None, "revoked")


def test_a_revoke_through_the_admin_api_is_immediate(server: Server) -> None:
    admin = server.key("admin")
    resp = requests.post(
        server.url + "/v1/admin/keys",
        json={"mode": "test", "account_id": "acct_default"},
        headers={"Authorization": admin},
    )
    assert resp.status_code == 201, resp.text
    made = resp.json()
    k = made["key"]
    assert post(server, "/v1/media/create", k, json={"model": "seedream-3", "prompt": "r"}).ok
    gone = requests.delete(
        server.url + f"/v1/admin/keys/{made['id']}", headers={"Authorization": admin}
    )
    assert gone.status_code == 200, gone.text
    resp = post(server, "/v1/media/create", k, json={"model": "seedream-3", "prompt": "r"})
    assert_error(resp, 401, None, "revoked")


def test_unknown_task_and_malformed_id_are_404(server: Server, key: str) -> None:
    for task_id in ("0" * 24, "not-an-id", "../../etc/passwd"):
        resp = post(server, "/v1/media/result", key, json={"task_id": task_id})
        assert_error(resp, 404, "task_id", "not found")


def test_missing_task_id_is_400(server: Server, key: str) -> None:
    assert_error(post(server, "/v1/media/result", key, json={}), 400, "task_id", "required")
    assert_error(post(server, "/v1/media/result", key, json={"task_id": 7}), 400, "task_id", "str")


def test_another_keys_task_is_404_and_its_file_link_is_not_guessable(
    server: Server, key: str, other_key: str
) -> None:
    task_id = post(
        server, "/v1/media/create", key, json={"model": "seedream-3", "prompt": "mine"}
    ).json()["id"]
    resp = post(server, "/v1/media/result", other_key, json={"task_id": task_id})
    assert_error(resp, 404, "task_id", "not found")
    url = str(wait_done(server.url, key, task_id)["url"])
    assert requests.get(url, timeout=10).status_code == 200
    base, _, sig = url.partition("?sig=")
    forged = base + "?sig=" + ("0" if sig[0] != "0" else "1") + sig[1:]
    assert requests.get(forged, timeout=10).status_code == 404
    assert requests.get(base, timeout=10).status_code == 404
    other = base.replace("/0.webp", "/1.webp") + "?sig=" + sig
    assert requests.get(other, timeout=10).status_code == 404


def test_live_key_without_providers_fails_at_create_with_a_clear_message(server: Server) -> None:
    live = server.key("live")
    resp = post(server, "/v1/media/create", live, json={"model": "seedream-3", "prompt": "x"})
    assert_error(resp, 503, "model", "no live provider", "seedream-3", "test key")


def test_unknown_route_and_method_are_json_4xx(server: Server, key: str) -> None:
    assert requests.get(server.url + "/v1/nothing", timeout=5).status_code == 404
    resp = requests.delete(
        server.url + "/v1/media/create", headers={"Authorization": key}, timeout=5
    )
    assert resp.status_code == 405
    assert resp.headers["content-type"].startswith("application/json")
