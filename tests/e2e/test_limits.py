"""Limits: requests per minute per key (429 + Retry-After in the caller's dialect), a cap
on a key's unfinished tasks, and a cap on request bodies."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest
import requests

from tests.helpers import Server


def test_requests_per_minute_per_key(tmp_path: Path) -> None:
    srv = Server(tmp_path, MEDIAGATE_RATE_LIMIT_RPM="5").start()
    try:
        key, other = srv.key(), srv.key()
        ok = [
            requests.get(
                srv.url + "/v1/media/result",
                params={"task_id": "0" * 24},
                headers={"Authorization": key},
                timeout=10,
            ).status_code
            for _ in range(5)
        ]
        assert ok == [404] * 5
        over = requests.post(
            srv.url + "/v1/media/create",
            headers={"Authorization": key},
            json={"model": "seedream-3", "prompt": "x"},
            timeout=10,
        )
        assert over.status_code == 429 and 1 <= int(over.headers["Retry-After"]) <= 12
        assert over.json()["error"]["type"] == "rate_limit_error"
        assert "5 requests per minute" in over.json()["message"]
        sdk = openai.OpenAI(api_key=key, base_url=srv.url + "/v1", max_retries=0)
        with pytest.raises(openai.RateLimitError):
            sdk.images.generate(model="seedream-3", prompt="x")
        # Another key has its own budget.
        theirs = requests.get(srv.url + "/v1/balance", headers={"Authorization": other}, timeout=10)
        assert theirs.status_code == 200
    finally:
        srv.stop()


def test_queue_depth_and_body_size(tmp_path: Path) -> None:
    srv = Server(
        tmp_path, latency=60, MEDIAGATE_MAX_QUEUED_PER_KEY="2", MEDIAGATE_MAX_BODY_BYTES="4096"
    ).start()
    try:
        key = srv.key()
        body = {"model": "seedance-1-lite-480P-5s", "prompt": "slow"}
        codes = [
            requests.post(
                srv.url + "/v1/media/create", json=body, headers={"Authorization": key}, timeout=10
            )
            for _ in range(3)
        ]
        assert [c.status_code for c in codes] == [200, 200, 429]
        assert codes[2].json()["error"]["code"] == "queue_full"
        requests.post(
            srv.url + "/v1/media/cancel",
            json={"task_id": codes[0].json()["id"]},
            headers={"Authorization": key},
            timeout=10,
        )
        again = requests.post(
            srv.url + "/v1/media/create", json=body, headers={"Authorization": key}, timeout=10
        )
        assert again.status_code == 200  # a slot freed up
        big = requests.post(
            srv.url + "/v1/media/create",
            headers={"Authorization": key},
            json={"model": "seedream-3", "prompt": "x" * 5000},
            timeout=10,
        )
        assert big.status_code == 413 and big.json()["code"] != 0
    finally:
        srv.stop()
