"""SQL tables (SQLAlchemy Core). Times are Unix seconds as floats, portable to PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(24), primary_key=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("mode", sa.String(8), nullable=False),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float, nullable=True),
    sa.Column("account_id", sa.String(40), nullable=False, server_default="acct_default"),
    sa.Column("webhook_secret", sa.Text, nullable=True),  # sealed (store.sealing)
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("balance_micros", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("daily_limit_micros", sa.BigInteger, nullable=True),
    sa.Column("monthly_limit_micros", sa.BigInteger, nullable=True),
    sa.Column("allowed_models", sa.Text, nullable=True),  # JSON list; NULL: every model
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("disabled_at", sa.Float, nullable=True),
)

# Append-only: every balance movement. SUM(amount_micros) per account == its balance.
ledger = sa.Table(
    "ledger",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(40), nullable=False),
    sa.Column("key_id", sa.String(24), nullable=True),
    sa.Column("task_id", sa.String(24), nullable=True),
    sa.Column("model", sa.String(100), nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount_micros", sa.BigInteger, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("request_id", sa.String(32), nullable=True),  # a relayed request's charge
)
sa.Index("ix_ledger_account_at", ledger.c.account_id, ledger.c.at)
sa.Index("ix_ledger_task_id", ledger.c.task_id)
sa.Index("ix_ledger_request_id", ledger.c.request_id)

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.String(24), primary_key=True),
    sa.Column("key_id", sa.String(24), nullable=False, index=True),
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("prompt", sa.Text, nullable=False),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("mode", sa.String(8), nullable=False),
    sa.Column("provider", sa.String(50), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("step", sa.String(16), nullable=True),
    sa.Column("progress", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("seed", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("upstream_id", sa.String(200), nullable=True),
    sa.Column("outputs", sa.Text, nullable=False, server_default="[]"),
    sa.Column("error_code", sa.String(50), nullable=True),
    sa.Column("error_message", sa.Text, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("next_run_at", sa.Float, nullable=True),
    sa.Column("lease_owner", sa.String(40), nullable=True),
    sa.Column("lease_until", sa.Float, nullable=True),
    sa.Column("deleted_at", sa.Float, nullable=True),
    sa.Column("account_id", sa.String(40), nullable=False, server_default="acct_default"),
    sa.Column("price_micros", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("charge", sa.String(10), nullable=False, server_default="none"),
    sa.Column("route", sa.Integer, nullable=False, server_default="-1"),
    sa.Column("route_name", sa.Text, nullable=False, server_default=""),
    sa.Column("cost_micros", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("callback_url", sa.Text, nullable=True),
    sa.Column("dialect", sa.String(16), nullable=False, server_default=""),
    sa.Column("public_base", sa.Text, nullable=False, server_default=""),
    sa.Column("slot", sa.Integer, nullable=False, server_default="0"),  # 1: may run upstream
)
sa.Index("ix_tasks_account_created", tasks.c.account_id, tasks.c.created_at)
# Migration 0003 makes this index partial on PostgreSQL too; a ``postgresql_where`` here would
# import SQLAlchemy's PostgreSQL dialect (0.07 s) on every start, SQLite's included.
sa.Index("ix_tasks_held", tasks.c.account_id, sqlite_where=tasks.c.charge == "held")
sa.Index("ix_tasks_due", tasks.c.next_run_at, sqlite_where=tasks.c.step.isnot(None))
sa.Index("ix_tasks_key_created", tasks.c.key_id, tasks.c.created_at)
sa.Index("ix_tasks_key_status", tasks.c.key_id, tasks.c.status)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("scope", sa.String(300), primary_key=True),  # "<key id>:<Idempotency-Key>"
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("task_id", sa.String(24), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("task_id", sa.String(24), nullable=False),
    sa.Column("key_id", sa.String(24), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("event", sa.String(40), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("next_attempt_at", sa.Float, nullable=True),
    sa.Column("lease_until", sa.Float, nullable=True),
    sa.Column("last_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("delivered_at", sa.Float, nullable=True),
)
sa.Index("ix_webhook_due", webhook_deliveries.c.status, webhook_deliveries.c.next_attempt_at)
sa.Index("ix_webhook_task", webhook_deliveries.c.task_id)

webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.String(40), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("ms", sa.Float, nullable=False),
)
sa.Index("ix_webhook_attempts_delivery", webhook_attempts.c.delivery_id)

task_events = sa.Table(
    "task_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("task_id", sa.String(24), nullable=False, index=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
)

# Request-rate token buckets shared by every process (used on PostgreSQL).
rate_buckets = sa.Table(
    "rate_buckets",
    metadata,
    sa.Column("key_id", sa.String(24), primary_key=True),
    sa.Column("tokens", sa.Float, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("granted", sa.Boolean, nullable=False, server_default=sa.true()),
)

# Channels: several credentials for one provider (new-api's word; LiteLLM's deployments).
channels = sa.Table(
    "channels",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("provider", sa.String(50), nullable=False),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("api_key", sa.Text, nullable=False),
    sa.Column("base_url", sa.Text, nullable=False, server_default=""),
    sa.Column("secrets", sa.Text, nullable=False, server_default="{}"),
    sa.Column("weight", sa.Integer, nullable=False, server_default="1"),
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_running", sa.Integer, nullable=False, server_default="0"),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("auto_disabled_at", sa.Float, nullable=True),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

channel_events = sa.Table(
    "channel_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel_id", sa.String(40), nullable=False, index=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("event", sa.String(30), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
)

# Files clients upload for later tasks (Midjourney's upload-discord-images), counted against
# a per-key quota.
uploads = sa.Table(
    "uploads",
    metadata,
    sa.Column("key", sa.String(120), primary_key=True),
    sa.Column("key_id", sa.String(24), nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_uploads_key_time", "key_id", "created_at"),
)

# Prices an admin set in the console, over the catalogue's and MEDIAGATE_PRICES.
price_overrides = sa.Table(
    "price_overrides",
    metadata,
    sa.Column("model", sa.String(120), primary_key=True),
    sa.Column("price", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

# A key's asset library (Viggle's character images and driving videos), by id.
assets = sa.Table(
    "assets",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("key_id", sa.String(24), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("blob", sa.String(200), nullable=False),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("content_type", sa.String(40), nullable=False),
    sa.Column("width", sa.Integer, nullable=False, server_default="0"),
    sa.Column("height", sa.Integer, nullable=False, server_default="0"),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_assets_key_time", "key_id", "created_at"),
)

# Console sessions signed out before their cookie expires (the cookie alone would stay valid).
ended_sessions = sa.Table(
    "ended_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("until", sa.Float, nullable=False),
)

# Relayed requests (chat, completions, embeddings, audio): the request log, written in batches.
requests_log = sa.Table(
    "requests",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("key_id", sa.String(24), nullable=False),
    sa.Column("account_id", sa.String(40), nullable=False),
    sa.Column("mode", sa.String(8), nullable=False),
    sa.Column("route", sa.String(32), nullable=False),
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("provider", sa.String(100), nullable=False, server_default=""),
    sa.Column("upstream_model", sa.String(200), nullable=False, server_default=""),
    sa.Column("stream", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("ending", sa.String(32), nullable=False),
    sa.Column("prompt_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cached_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("completion_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("counted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("characters", sa.Integer, nullable=False, server_default="0"),
    sa.Column("audio_ms", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("cost_micros", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("ttft_ms", sa.Float, nullable=True),
    sa.Column("total_ms", sa.Float, nullable=False),
    sa.Column("overhead_ms", sa.Float, nullable=False),
    sa.Column("error", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_requests_key_time", "key_id", "created_at"),
    sa.Index("ix_requests_account_time", "account_id", "created_at"),
)

decks = sa.Table(
    "decks",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("task_id", sa.String(40), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("template", sa.String(40), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index("ix_decks_key", "key_id", "created_at"),
)
