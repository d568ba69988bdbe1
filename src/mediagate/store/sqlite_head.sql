-- A new SQLite database at migration 0014: its schema as the migrations leave it,
-- and their seed rows. Made by `python -m mediagate.store.migrate`; do not edit.
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE tasks (
	id VARCHAR(24) NOT NULL, 
	key_id VARCHAR(24) NOT NULL, 
	model VARCHAR(100) NOT NULL, 
	prompt TEXT NOT NULL, 
	params TEXT NOT NULL, 
	mode VARCHAR(8) NOT NULL, 
	provider VARCHAR(50) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	step VARCHAR(16), 
	progress INTEGER DEFAULT '0' NOT NULL, 
	attempts INTEGER DEFAULT '0' NOT NULL, 
	seed BIGINT DEFAULT '0' NOT NULL, 
	upstream_id VARCHAR(200), 
	outputs TEXT DEFAULT '[]' NOT NULL, 
	error_code VARCHAR(50), 
	error_message TEXT, 
	created_at FLOAT NOT NULL, 
	updated_at FLOAT NOT NULL, 
	finished_at FLOAT, 
	next_run_at FLOAT, 
	lease_owner VARCHAR(40), 
	lease_until FLOAT, deleted_at FLOAT, account_id VARCHAR(40) DEFAULT 'acct_default' NOT NULL, price_micros BIGINT DEFAULT '0' NOT NULL, charge VARCHAR(10) DEFAULT 'none' NOT NULL, route INTEGER DEFAULT '-1' NOT NULL, cost_micros BIGINT DEFAULT '0' NOT NULL, callback_url TEXT, dialect VARCHAR(16) DEFAULT '' NOT NULL, public_base TEXT DEFAULT '' NOT NULL, slot INTEGER DEFAULT '0' NOT NULL, route_name TEXT DEFAULT '' NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_tasks_key_id ON tasks (key_id);
CREATE INDEX ix_tasks_status ON tasks (status);
CREATE INDEX ix_tasks_due ON tasks (next_run_at) WHERE step IS NOT NULL;
CREATE TABLE task_events (
	id INTEGER NOT NULL, 
	task_id VARCHAR(24) NOT NULL, 
	at FLOAT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	detail TEXT DEFAULT '' NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_task_events_task_id ON task_events (task_id);
CREATE INDEX ix_tasks_key_created ON tasks (key_id, created_at);
CREATE TABLE idempotency_keys (
	scope VARCHAR(300) NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	task_id VARCHAR(24) NOT NULL, 
	created_at FLOAT NOT NULL, 
	PRIMARY KEY (scope)
);
CREATE TABLE accounts (
	id VARCHAR(40) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	balance_micros BIGINT DEFAULT '0' NOT NULL, 
	daily_limit_micros BIGINT, 
	monthly_limit_micros BIGINT, 
	allowed_models TEXT, 
	created_at FLOAT NOT NULL, 
	disabled_at FLOAT, 
	PRIMARY KEY (id)
);
CREATE TABLE ledger (
	id INTEGER NOT NULL, 
	account_id VARCHAR(40) NOT NULL, 
	key_id VARCHAR(24), 
	task_id VARCHAR(24), 
	model VARCHAR(100), 
	kind VARCHAR(16) NOT NULL, 
	amount_micros BIGINT NOT NULL, 
	at FLOAT NOT NULL, 
	note TEXT DEFAULT '' NOT NULL, request_id VARCHAR(32), 
	PRIMARY KEY (id)
);
CREATE INDEX ix_ledger_account_at ON ledger (account_id, at);
CREATE INDEX ix_ledger_task_id ON ledger (task_id);
CREATE INDEX ix_tasks_account_created ON tasks (account_id, created_at);
CREATE INDEX ix_tasks_held ON tasks (account_id) WHERE charge = 'held';
CREATE INDEX ix_tasks_key_status ON tasks (key_id, status);
CREATE TABLE webhook_deliveries (
	id VARCHAR(40) NOT NULL, 
	task_id VARCHAR(24) NOT NULL, 
	key_id VARCHAR(24) NOT NULL, 
	url TEXT NOT NULL, 
	event VARCHAR(40) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	attempts INTEGER DEFAULT '0' NOT NULL, 
	created_at FLOAT NOT NULL, 
	next_attempt_at FLOAT, 
	lease_until FLOAT, 
	last_status INTEGER, 
	last_error TEXT, 
	delivered_at FLOAT, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_webhook_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX ix_webhook_task ON webhook_deliveries (task_id);
CREATE TABLE webhook_attempts (
	id INTEGER NOT NULL, 
	delivery_id VARCHAR(40) NOT NULL, 
	at FLOAT NOT NULL, 
	status_code INTEGER, 
	error TEXT, 
	ms FLOAT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_webhook_attempts_delivery ON webhook_attempts (delivery_id);
CREATE TABLE rate_buckets (
	key_id VARCHAR(24) NOT NULL, 
	tokens FLOAT NOT NULL, 
	at FLOAT NOT NULL, 
	granted BOOLEAN DEFAULT 1 NOT NULL, 
	PRIMARY KEY (key_id)
);
CREATE TABLE channels (
	id VARCHAR(40) NOT NULL, 
	provider VARCHAR(50) NOT NULL, 
	name VARCHAR(200) DEFAULT '' NOT NULL, 
	api_key TEXT NOT NULL, 
	base_url TEXT DEFAULT '' NOT NULL, 
	secrets TEXT DEFAULT '{}' NOT NULL, 
	weight INTEGER DEFAULT '1' NOT NULL, 
	priority INTEGER DEFAULT '0' NOT NULL, 
	max_running INTEGER DEFAULT '0' NOT NULL, 
	enabled BOOLEAN DEFAULT 1 NOT NULL, 
	auto_disabled_at FLOAT, 
	reason TEXT DEFAULT '' NOT NULL, 
	created_at FLOAT NOT NULL, 
	updated_at FLOAT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE channel_events (
	id INTEGER NOT NULL, 
	channel_id VARCHAR(40) NOT NULL, 
	at FLOAT NOT NULL, 
	event VARCHAR(30) NOT NULL, 
	detail TEXT DEFAULT '' NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_channel_events_channel_id ON channel_events (channel_id);
CREATE TABLE "api_keys" (
	id VARCHAR(24) NOT NULL, 
	prefix VARCHAR(16) NOT NULL, 
	key_hash VARCHAR(64) NOT NULL, 
	mode VARCHAR(8) NOT NULL, 
	name VARCHAR(200) DEFAULT ('') NOT NULL, 
	created_at FLOAT NOT NULL, 
	revoked_at FLOAT, 
	account_id VARCHAR(40) DEFAULT 'acct_default' NOT NULL, 
	webhook_secret TEXT, 
	PRIMARY KEY (id), 
	UNIQUE (key_hash)
);
CREATE TABLE uploads (
	"key" VARCHAR(120) NOT NULL, 
	key_id VARCHAR(24) NOT NULL, 
	bytes BIGINT NOT NULL, 
	created_at FLOAT NOT NULL, 
	PRIMARY KEY ("key")
);
CREATE INDEX ix_uploads_key_time ON uploads (key_id, created_at);
CREATE TABLE ended_sessions (
	id VARCHAR(64) NOT NULL, 
	until FLOAT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE requests (
	id VARCHAR(32) NOT NULL, 
	key_id VARCHAR(24) NOT NULL, 
	account_id VARCHAR(40) NOT NULL, 
	mode VARCHAR(8) NOT NULL, 
	route VARCHAR(32) NOT NULL, 
	model VARCHAR(100) NOT NULL, 
	provider VARCHAR(100) DEFAULT '' NOT NULL, 
	upstream_model VARCHAR(200) DEFAULT '' NOT NULL, 
	stream BOOLEAN DEFAULT 0 NOT NULL, 
	status INTEGER NOT NULL, 
	ending VARCHAR(32) NOT NULL, 
	prompt_tokens INTEGER DEFAULT '0' NOT NULL, 
	cached_tokens INTEGER DEFAULT '0' NOT NULL, 
	completion_tokens INTEGER DEFAULT '0' NOT NULL, 
	counted BOOLEAN DEFAULT 0 NOT NULL, 
	cost_micros BIGINT DEFAULT '0' NOT NULL, 
	ttft_ms FLOAT, 
	total_ms FLOAT NOT NULL, 
	overhead_ms FLOAT NOT NULL, 
	error TEXT DEFAULT '' NOT NULL, 
	created_at FLOAT NOT NULL, characters INTEGER DEFAULT '0' NOT NULL, audio_ms BIGINT DEFAULT '0' NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_requests_key_time ON requests (key_id, created_at);
CREATE INDEX ix_requests_account_time ON requests (account_id, created_at);
CREATE INDEX ix_ledger_request_id ON ledger (request_id);
CREATE TABLE assets (
	id VARCHAR(40) NOT NULL, 
	key_id VARCHAR(24) NOT NULL, 
	kind VARCHAR(8) NOT NULL, 
	blob VARCHAR(200) NOT NULL, 
	name VARCHAR(200) DEFAULT '' NOT NULL, 
	content_type VARCHAR(40) NOT NULL, 
	width INTEGER DEFAULT '0' NOT NULL, 
	height INTEGER DEFAULT '0' NOT NULL, 
	bytes BIGINT NOT NULL, 
	created_at FLOAT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_assets_key_time ON assets (key_id, created_at);
CREATE TABLE price_overrides (
	model VARCHAR(120) NOT NULL, 
	price VARCHAR(40) NOT NULL, 
	updated_at FLOAT NOT NULL, 
	PRIMARY KEY (model)
);
CREATE TABLE decks (
	id VARCHAR(40) NOT NULL, 
	key_id VARCHAR(64) NOT NULL, 
	task_id VARCHAR(40) NOT NULL, 
	subject TEXT NOT NULL, 
	template VARCHAR(40) NOT NULL, 
	created_at FLOAT NOT NULL, 
	updated_at FLOAT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_decks_key ON decks (key_id, created_at);
INSERT INTO "alembic_version" (version_num) VALUES ('0014');
INSERT INTO "accounts" (id, name, balance_micros, daily_limit_micros, monthly_limit_micros, allowed_models, created_at, disabled_at) VALUES ('acct_default', 'default', 0, NULL, NULL, NULL, (:now), NULL);
