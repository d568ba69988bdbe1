"""Tenant isolation and secrets: one key never reaches another key's tasks or files, in any
dialect; result links are signed; keys never reach the logs; every request has an id."""

from __future__ import annotations

from pathlib import Path

import requests

from tests.helpers import Server, wait_done


def test_a_key_cannot_touch_another_keys_task_in_any_dialect(
    server: Server, key: str, other_key: str
) -> None:
    made = requests.post(
        server.url + "/v1/video/generations",
        json={"model": "veo-3.0-generate-preview", "prompt": "private", "duration_seconds": 4},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    ).json()["task_id"]
    done = wait_done(server.url, key, made)
    assert done["status"] == "done"
    theirs = {"Authorization": f"Bearer {other_key}"}
    attempts = [
        ("GET", f"/v1/media/result?task_id={made}"),
        ("POST", f"/v1/media/cancel?task_id={made}"),
        ("GET", f"/v1/video/generations/{made}"),
        ("GET", f"/v1/videos/{made}"),
        ("GET", f"/v1/videos/{made}/content"),
        ("DELETE", f"/v1/videos/{made}"),
    ]
    for method, path in attempts:
        resp = requests.request(method, server.url + path, headers=theirs, timeout=10)
        assert resp.status_code == 404, (method, path, resp.status_code)
        assert made not in resp.text or "not found" in resp.text
    listed = requests.get(server.url + "/v1/videos", headers=theirs, timeout=10).json()
    assert made not in [v["id"] for v in listed["data"]]
    # A list cursor resolves among the caller's own tasks only: another tenant's id reads
    # exactly as an id that never existed.
    missing = made[:-4] + ("0000" if made[-4:] != "0000" else "1111")
    answers = [
        requests.get(server.url + f"/v1/videos?after={cursor}", headers=theirs, timeout=10)
        for cursor in (made, missing)
    ]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json()["error"]["param"] == "after"
    assert answers[0].text.replace(made, "ID") == answers[1].text.replace(missing, "ID")
    # The owner still has it, untouched.
    mine = requests.get(
        server.url + f"/v1/videos/{made}", headers={"Authorization": key}, timeout=10
    )
    assert mine.json()["status"] == "completed"


def test_result_links_are_signed_and_cannot_be_bent(server: Server, key: str) -> None:
    made = requests.post(
        server.url + "/v1/media/create",
        json={"model": "seedream-3", "prompt": "signed"},
        headers={"Authorization": key},
        timeout=10,
    ).json()
    url = str(wait_done(server.url, key, made["id"])["url"])
    assert requests.get(url, timeout=10).status_code == 200
    path, _, query = url.partition("?")
    sig = query.split("sig=")[1].split("&")[0]
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    bent = [
        f"{path}?sig={flipped}",
        path,
        f"{path.replace('/0.webp', '/1.webp')}?{query}",  # another file, same signature
        f"{server.url}/v1/files/../mediagate.db?{query}",
        f"{server.url}/v1/files/in/{made['id']}/0?{query}",  # inputs are never served
        f"{path}?{query}&exp=1",  # an expiry added after signing
    ]
    for link in bent:
        assert requests.get(link, timeout=10).status_code == 404, link


def test_request_ids_and_no_key_in_the_logs(tmp_path: Path) -> None:
    srv = Server(tmp_path, MEDIAGATE_LOG_LEVEL="info").start()
    try:
        key = srv.key()
        given = requests.post(
            srv.url + "/v1/media/create",
            json={"model": "seedream-3", "prompt": "x"},
            headers={"Authorization": key, "X-Request-Id": "req-42"},
            timeout=10,
        )
        assert given.headers["x-request-id"] == "req-42"
        for _ in range(3):  # polls: at debug, so an info log is not flooded by them
            requests.get(
                srv.url + "/v1/media/result",
                params={"task_id": given.json()["id"]},
                headers={"Authorization": key},
                timeout=10,
            ).raise_for_status()
        made = requests.get(srv.url + "/v1/models", headers={"X-Request-Id": "bad id!"}, timeout=10)
        assert len(made.headers["x-request-id"]) == 32  # a sane one is made instead
        refused = requests.get(
            srv.url + "/v1/balance", headers={"Authorization": key + "x"}, timeout=10
        )
        assert refused.status_code == 401
    finally:
        srv.stop()
    log = srv.log.read_text()
    assert "request_id=req-42" in log and "path=/v1/media/create" in log
    assert "path=/v1/media/result" not in log
    assert key not in log and key[8:] not in log


def test_keys_made_without_an_account_do_not_share_one(server: Server) -> None:
    """Two people's keys made with a bare `keys create` each get an account: neither sees
    the other's key ids, usage or balance."""
    first, second = server.key("test"), server.key("test")
    for key in (first, second):
        requests.post(
            server.url + "/v1/media/create",
            json={"model": "seedream-3", "prompt": "usage"},
            headers={"Authorization": key},
            timeout=10,
        ).raise_for_status()
    seen = []
    for key in (first, second):
        usage = requests.get(
            server.url + "/v1/usage",
            params={"group_by": "key"},
            headers={"Authorization": key},
            timeout=10,
        ).json()
        seen.append((usage["account_id"], [row["group"] for row in usage["data"]]))
    (acct_a, keys_a), (acct_b, keys_b) = seen
    assert acct_a != acct_b and acct_a != "acct_default"
    assert len(keys_a) == 1 and len(keys_b) == 1 and keys_a != keys_b
