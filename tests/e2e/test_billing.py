"""Money end to end: prices, hold at create, settle or release, limits, usage, the admin API.
The server runs live keys on the sandbox (MEDIAGATE_SANDBOX_LIVE), so charges really apply."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
import requests

from mediagate.core.errors import InvalidRequestError
from mediagate.core.money import text, to_micros
from tests.helpers import Server, cli, wait_done


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(
        tmp_path_factory.mktemp("billing"),
        latency=0.3,
        MEDIAGATE_SANDBOX_LIVE="1",
        MEDIAGATE_PRICES='{"google-imagen-3": "0.05"}',
    ).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def admin(live: Server) -> str:
    return live.key("admin")


def call(live: Server, key: str, method: str, path: str, **kw: Any) -> requests.Response:
    return requests.request(
        method, live.url + path, headers={"Authorization": f"Bearer {key}"}, timeout=30, **kw
    )


def new_account(live: Server, admin: str, balance: str, **limits: Any) -> tuple[str, str]:
    """An account with ``balance`` and a live key on it."""
    acct = call(live, admin, "POST", "/v1/admin/accounts", json={"name": "t", **limits})
    assert acct.status_code == 201, acct.text
    account_id = acct.json()["id"]
    if balance != "0":
        top = call(live, admin, "POST", f"/v1/admin/accounts/{account_id}/topup",
                   json={"amount": balance, "note": "test"})  # fmt: skip
        assert top.json()["balance_micros"] == to_micros(balance)
    key = call(live, admin, "POST", "/v1/admin/keys",
               json={"mode": "live", "account_id": account_id})  # fmt: skip
    assert key.status_code == 201 and key.json()["key"].startswith("mg_live_")
    return account_id, key.json()["key"]


def balance(live: Server, key: str) -> dict[str, Any]:
    body: dict[str, Any] = call(live, key, "GET", "/v1/balance").json()
    return body


def create(live: Server, key: str, **body: Any) -> requests.Response:
    return call(live, key, "POST", "/v1/media/create", json=body)


def test_hold_then_charge_on_success_release_on_failure(live: Server, admin: str) -> None:
    account_id, key = new_account(live, admin, "1")
    assert balance(live, key) == {
        "object": "balance", "orgId": account_id, "balance": 1.0, "creditLimit": 0.0,
        "held": 0.0, "balance_micros": 1_000_000, "held_micros": 0, "currency": "credits",
    }  # fmt: skip
    ok = create(live, key, model="seedream-3", prompt="a fox").json()
    held = balance(live, key)
    assert (held["balance_micros"], held["held_micros"]) == (970_000, 30_000)
    assert wait_done(live.url, key, ok["id"])["status"] == "done"
    after = balance(live, key)
    assert (after["balance_micros"], after["held_micros"]) == (970_000, 0)

    bad = create(live, key, model="seedream-3", prompt="[sandbox:content-rejected] x").json()
    assert wait_done(live.url, key, bad["id"])["status"] == "failed"
    assert balance(live, key)["balance_micros"] == 970_000  # a failure costs nothing

    slow = create(live, key, model="veo-3.0-generate-preview", prompt="x", duration_seconds=4)
    assert slow.status_code == 402  # 4 s x 0.40 = 1.60 > 0.97
    usage = call(live, key, "GET", "/v1/usage", params={"group_by": "model"}).json()
    assert usage["total"] == {"tasks": 2, "amount": 0.03, "amount_micros": 30_000}
    assert usage["data"] == [
        {"group": "seedream-3", "tasks": 2, "succeeded": 1, "failed": 1,
         "amount": 0.03, "amount_micros": 30_000},
    ]  # fmt: skip
    check = call(live, admin, "GET", "/v1/admin/ledger/check").json()
    assert check == {"ok": True, "problems": []}


def test_video_price_is_per_second_times_samples_and_override_applies(
    live: Server, admin: str
) -> None:
    _, key = new_account(live, admin, "10")
    task = create(live, key, model="veo-3.0-generate-preview", prompt="x",
                  duration_seconds=4, sample_count=2).json()  # fmt: skip
    assert balance(live, key)["held_micros"] == 3_200_000  # 0.40 x 4 s x 2
    wait_done(live.url, key, task["id"])
    create(live, key, model="google-imagen-3", prompt="y", sample_count=3)
    assert balance(live, key)["held_micros"] == 150_000  # MEDIAGATE_PRICES: 0.05 x 3


def test_insufficient_balance_is_402_in_every_dialect_and_queues_nothing(
    live: Server, admin: str
) -> None:
    _, key = new_account(live, admin, "0.02")
    gpt = create(live, key, model="seedream-3", prompt="x")
    assert gpt.status_code == 402
    assert gpt.json()["error"]["type"] == "insufficient_balance_error"
    assert "costs 0.03" in gpt.json()["message"] and "has 0.02" in gpt.json()["message"]
    unified = call(live, key, "POST", "/v1/video/generations",
                   json={"model": "seedance-1-lite-480P-5s", "prompt": "x"})  # fmt: skip
    assert unified.status_code == 402 and unified.json()["code"] == "insufficient_balance"
    sdk = openai.OpenAI(api_key=key, base_url=live.url + "/v1", max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        sdk.images.generate(model="seedream-3", prompt="x")
    assert caught.value.status_code == 402
    usage = call(live, key, "GET", "/v1/usage").json()
    assert usage["total"]["tasks"] == 0 and balance(live, key)["balance_micros"] == 20_000


def test_cancel_releases_and_idempotent_retry_charges_once(live: Server, admin: str) -> None:
    _, key = new_account(live, admin, "5")
    headers = {"Authorization": key, "Idempotency-Key": "retry-1"}
    body = {"model": "seedance-1-lite-480P-5s", "prompt": "once"}  # 5 s x 0.018 = 0.09
    first = requests.post(live.url + "/v1/media/create", json=body, headers=headers, timeout=10)
    again = requests.post(live.url + "/v1/media/create", json=body, headers=headers, timeout=10)
    assert first.json()["id"] == again.json()["id"]
    assert balance(live, key)["held_micros"] == 90_000
    cancelled = call(live, key, "POST", "/v1/media/cancel", json={"task_id": first.json()["id"]})
    assert cancelled.json()["status"] == "cancelled"
    after = balance(live, key)
    assert (after["balance_micros"], after["held_micros"]) == (5_000_000, 0)


def test_limits_disabled_accounts_and_admin_keys(live: Server, admin: str) -> None:
    account_id, key = new_account(live, admin, "10", daily_limit="0.05")
    assert create(live, key, model="seedream-3", prompt="1").status_code == 200
    over = create(live, key, model="seedream-3", prompt="2")
    assert over.status_code == 402 and over.json()["error"]["code"] == "spend_limit_exceeded"
    assert "daily spend limit is 0.05" in over.json()["message"]

    call(live, admin, "PATCH", f"/v1/admin/accounts/{account_id}",
         json={"daily_limit": None, "allowed_models": ["seedream-3"]})  # fmt: skip
    assert create(live, key, model="seedream-3", prompt="3").status_code == 200
    denied = create(live, key, model="google-imagen-3", prompt="4")
    assert denied.status_code == 403 and "allowed: seedream-3" in denied.json()["message"]

    call(live, admin, "PATCH", f"/v1/admin/accounts/{account_id}", json={"disabled": True})
    assert create(live, key, model="seedream-3", prompt="5").status_code == 403

    assert create(live, admin, model="seedream-3", prompt="x").status_code == 403
    assert call(live, key, "GET", "/v1/admin/accounts").status_code == 403
    assert call(live, "mg_admin_wrong", "GET", "/v1/admin/accounts").status_code == 401


def test_test_keys_never_touch_the_balance(live: Server, admin: str) -> None:
    account_id, _ = new_account(live, admin, "1")
    made = call(live, admin, "POST", "/v1/admin/keys",
                json={"mode": "test", "account_id": account_id}).json()  # fmt: skip
    task = create(live, made["key"], model="seedream-3", prompt="free").json()
    assert wait_done(live.url, made["key"], task["id"])["status"] == "done"
    assert balance(live, made["key"])["balance_micros"] == 1_000_000
    usage = call(live, made["key"], "GET", "/v1/usage", params={"group_by": "key"}).json()
    assert usage["data"][0]["group"] == made["id"] and usage["total"]["amount_micros"] == 0


def test_admin_api_reads_any_task_and_usage_groups(live: Server, admin: str) -> None:
    account_id, key = new_account(live, admin, "1")
    task = create(live, key, model="seedream-3", prompt="read me").json()
    wait_done(live.url, key, task["id"])
    read = call(live, admin, "GET", f"/v1/admin/tasks/{task['id']}").json()
    assert read["id"] == task["id"] and read["charge"] == "settled"
    assert read["price_micros"] == 30_000 and read["account_id"] == account_id
    day = time.strftime("%Y-%m-%d", time.gmtime())
    usage = call(live, admin, "GET", f"/v1/admin/accounts/{account_id}/usage",
                 params={"group_by": "day", "from": day}).json()  # fmt: skip
    assert [r["group"] for r in usage["data"]] == [day]
    bad = call(live, key, "GET", "/v1/usage", params={"group_by": "hour"})
    assert bad.status_code == 400 and "model, day, key" in bad.json()["message"]
    bad_from = call(live, key, "GET", "/v1/usage", params={"from": "yesterday"})
    assert bad_from.status_code == 400 and bad_from.json()["error"]["param"] == "from"
    neg = call(live, admin, "POST", f"/v1/admin/accounts/{account_id}/adjust",
               json={"amount": "-5", "note": "too much"})  # fmt: skip
    assert neg.status_code == 402
    keys = call(live, admin, "GET", "/v1/admin/keys").json()["data"]
    assert all(k["key"] is None for k in keys)  # never shown again


def test_ledger_check_and_usage_from_the_cli(live: Server, admin: str) -> None:
    account_id, key = new_account(live, admin, "1")
    task = create(live, key, model="seedream-3", prompt="for the table").json()
    wait_done(live.url, key, task["id"])
    assert "ledger OK" in cli_out(live, "ledger", "check")
    table = cli_out(live, "usage", "--account", account_id)
    row = next(line for line in table.splitlines() if "seedream-3" in line)
    assert "0.03" in row and "1" in row


def cli_out(live: Server, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "mediagate", *args],
        capture_output=True, text=True, env={**live.env}, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stderr + proc.stdout


def test_money_is_exact() -> None:
    assert to_micros("0.03") == 30_000 and to_micros(10.5) == 10_500_000
    assert to_micros("1e2") == 100_000_000
    assert text(30_000) == "0.03" and text(-1_500_000) == "-1.5" and text(7_000_000) == "7"
    with pytest.raises(InvalidRequestError, match="6 decimal"):
        to_micros("0.0000001")
    with pytest.raises(InvalidRequestError, match="not a number"):
        to_micros("ten")
    assert sum(to_micros("0.1") for _ in range(10)) == to_micros("1")  # no float drift


def test_cli_keys_for_an_account(tmp_path: Any) -> None:
    account = cli("accounts", "create", "acme", "--daily-limit", "5", data_dir=tmp_path).strip()
    assert account.startswith("acct_")
    cli("accounts", "topup", account, "12.345678", data_dir=tmp_path)
    key = cli("keys", "create", "--live", "--account", account, data_dir=tmp_path).strip()
    assert key.startswith("mg_live_")
    assert "12.345678" in cli("accounts", "list", data_dir=tmp_path)
