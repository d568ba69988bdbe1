"""1,000 concurrent creates against a balance that covers only some of them, with failing
tasks and a kill -9 of the server mixed in: no overdraft, no lost update, no double charge,
and the ledger equals the balance. On SQLite and on PostgreSQL, where concurrent holds on one
account also honour its spend limit exactly (the account row is locked)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from tests.helpers import Server, create_through_outage

CREATES = 1000
PRICE = 30_000  # seedream-3: 0.03 per image
BALANCE = 150 * PRICE  # covers 150 of the 1,000 at once
FAILING_EVERY = 4  # every 4th prompt is refused upstream, so its hold is released


def admin_call(server: Server, admin: str, method: str, path: str, **kw: Any) -> Any:
    resp = requests.request(
        method, server.url + path, headers={"Authorization": admin}, timeout=30, **kw
    )
    assert resp.status_code < 300, resp.text
    return resp.json()


def test_thousand_concurrent_creates_with_failures_and_a_kill(tmp_path: Path, db_url: str) -> None:
    server = Server(
        tmp_path / "data", latency=0.2, MEDIAGATE_SANDBOX_LIVE="1", MEDIAGATE_DATABASE_URL=db_url
    ).start()
    try:
        run_scenario(server)
    finally:
        server.stop()


def test_concurrent_creates_stop_exactly_at_the_daily_limit(tmp_path: Path, db_url: str) -> None:
    server = Server(
        tmp_path / "data", latency=0.2, MEDIAGATE_SANDBOX_LIVE="1", MEDIAGATE_DATABASE_URL=db_url
    ).start()
    try:
        admin = server.key("admin")
        account = admin_call(server, admin, "POST", "/v1/admin/accounts",
                             json={"name": "capped"})  # fmt: skip
        admin_call(server, admin, "POST", f"/v1/admin/accounts/{account['id']}/topup",
                   json={"amount": 100})  # fmt: skip
        admin_call(server, admin, "PATCH", f"/v1/admin/accounts/{account['id']}",
                   json={"daily_limit": 20 * PRICE / 1_000_000})  # fmt: skip
        key = admin_call(server, admin, "POST", "/v1/admin/keys",
                         json={"mode": "live", "account_id": account["id"]})["key"]  # fmt: skip

        def create(i: int) -> int:
            return requests.post(
                server.url + "/v1/media/create",
                json={"model": "seedream-3", "prompt": f"cap {i}"},
                headers={"Authorization": key},
                timeout=30,
            ).status_code

        with ThreadPoolExecutor(max_workers=24) as pool:
            codes = list(pool.map(create, range(80)))
        assert codes.count(200) == 20 and codes.count(402) == 60, codes
    finally:
        server.stop()


def run_scenario(server: Server) -> None:
    admin = server.key("admin")
    account = admin_call(server, admin, "POST", "/v1/admin/accounts", json={"name": "race"})
    admin_call(server, admin, "POST", f"/v1/admin/accounts/{account['id']}/topup",
               json={"amount": BALANCE / 1_000_000})  # fmt: skip
    key = admin_call(server, admin, "POST", "/v1/admin/keys",
                     json={"mode": "live", "account_id": account["id"]})["key"]  # fmt: skip

    accepted: dict[int, str] = {}
    refused: set[int] = set()
    lock = threading.Lock()
    sent = 0

    def create(i: int) -> None:
        """One client: retries through the outage with the same Idempotency-Key."""
        nonlocal sent
        prompt = f"fox {i}" + (" [sandbox:content-rejected]" if i % FAILING_EVERY == 0 else "")
        body = {"model": "seedream-3", "prompt": prompt}
        resp = create_through_outage(server, key, body, f"race-{i}")
        with lock:
            sent += 1
            if resp.status_code == 200:
                accepted[i] = resp.json()["id"]
            else:
                assert resp.status_code == 402, resp.text
                assert resp.json()["error"]["type"] == "insufficient_balance_error"
                refused.add(i)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:
        futures = [pool.submit(create, i) for i in range(CREATES)]
        while sent < CREATES // 3:  # kill the server a third of the way in
            time.sleep(0.01)
        server.kill9()
        server.start()
        for f in futures:
            f.result()
    create_s = time.monotonic() - started

    assert len(accepted) + len(refused) == CREATES
    assert len(set(accepted.values())) == len(accepted), "a retried create made a second task"
    assert refused, "the balance should not have covered every create"

    statuses = wait_all(server, key, list(accepted.values()))
    done = [i for i, tid in accepted.items() if statuses[tid] == "done"]
    failed = [i for i, tid in accepted.items() if statuses[tid] == "failed"]
    assert len(done) + len(failed) == len(accepted)
    assert all(i % FAILING_EVERY == 0 for i in failed)  # only the refused prompts failed
    assert all(i % FAILING_EVERY != 0 for i in done)

    final = requests.get(server.url + "/v1/balance", headers={"Authorization": key}, timeout=10)
    body = final.json()
    assert body["held_micros"] == 0
    assert body["balance_micros"] == BALANCE - len(done) * PRICE  # exact: charged once each
    assert body["balance_micros"] >= 0  # never overdrawn
    usage = requests.get(server.url + "/v1/usage", headers={"Authorization": key}, timeout=10)
    total = usage.json()["total"]
    assert total["tasks"] == len(accepted)  # no phantom task from a retried create
    assert total["amount_micros"] == len(done) * PRICE
    check = admin_call(server, admin, "GET", "/v1/admin/ledger/check")
    assert check == {"ok": True, "problems": []}
    print(
        f"\n{CREATES} creates in {create_s:.1f}s with one kill -9: {len(accepted)} accepted, "
        f"{len(refused)} refused (402), {len(done)} done, {len(failed)} failed and released"
    )


def wait_all(server: Server, key: str, ids: list[str], timeout: float = 300) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    statuses: dict[str, str] = {}
    pending = list(ids)
    while pending:
        assert time.monotonic() < deadline, f"{len(pending)} tasks never finished"
        still = []
        for tid in pending:
            status = requests.get(
                server.url + "/v1/media/result",
                params={"task_id": tid},
                headers={"Authorization": key},
                timeout=10,
            ).json()["status"]
            if status in ("done", "failed", "cancelled"):
                statuses[tid] = status
            else:
                still.append(tid)
        pending = still
        if pending:
            time.sleep(0.5)
    return statuses
