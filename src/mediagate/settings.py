"""Deployment settings, read from MEDIAGATE_* environment variables (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDIAGATE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path("./data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite+aiosqlite under data_dir"
    )
    public_url: str | None = Field(
        default=None, description="Base URL used in result links; default: the request's host"
    )
    secret_key: str | None = Field(
        default=None, description="URL signing secret; default: made once in data_dir"
    )
    url_ttl_s: int = Field(default=0, description="Result link lifetime; 0 means permanent")
    step_concurrency: int = Field(
        default=256, ge=1, description="Task steps (upstream I/O) run at once in this process"
    )
    provider_concurrency: dict[str, int] = Field(
        default_factory=dict,
        description='Steps run at once against one provider, JSON: {"ark": 32} (default 64)',
    )
    engine: bool = Field(
        default=True, description="Run task steps in the server process (off: API only)"
    )
    channel_probe_s: float = Field(
        default=30.0,
        gt=0,
        description="How long a channel that disabled itself rests before a probe",
    )
    channel_refresh_s: float = Field(
        default=5.0, gt=0, description="How often channels are re-read, probed and re-enabled"
    )
    engine_sweep_s: float = Field(
        default=15.0,
        gt=0,
        description="How often the engine frees the leases of crashed processes on this host",
    )
    sqlite_synchronous: str = Field(
        default="NORMAL",
        description="SQLite's synchronous pragma: NORMAL survives kill -9; FULL also a power cut",
    )
    key_cache_s: float = Field(
        default=2.0,
        ge=0,
        description="How long an authenticated key is trusted from memory; a revoke made in "
        "another process takes effect within this (at once on PostgreSQL and in-process)",
    )
    blob_cache_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Recently stored results kept in memory, so a synchronous image is "
        "answered without reading it back",
    )
    render_processes: int = Field(
        default=0, ge=0, description="Processes that render sandbox media; 0 means one per core"
    )
    sandbox_text_cadence_s: float = Field(
        default=0.02, ge=0, description="Pause between a sandbox text stream's chunks"
    )
    rate_limit_tpm: int = Field(
        default=0,
        ge=0,
        description="Tokens per minute per key for relayed requests (chat, ...): the prompt "
        "and the most output each may make, taken before it is sent; 0: off",
    )
    request_log_days: int = Field(
        default=90, ge=1, description="Days the log of relayed requests (chat, ...) is kept"
    )
    sandbox_latency_s: float = Field(
        default=2.0, ge=0, description="How long a sandbox task stays processing"
    )
    model_aliases: dict[str, str] = Field(
        default_factory=lambda: {
            "gpt-image-1": "seedream-3",
            "dall-e-3": "google-imagen-3",
            "dall-e-2": "google-imagen-3",
            "sora-2": "veo-3.0-generate-preview",
            "gpt-4-all": "seedream-3",  # GPTNB's chat model that answers with pictures
        },
        description="Other names for catalogue models, JSON: OpenAI's names by default",
    )
    banned_words: list[str] = Field(
        default_factory=list,
        description="Words no prompt may hold, JSON list (whole words, any case), on top of "
        "each model's own (Midjourney's answer is code 24 with bannedWord)",
    )
    default_image_model: str = Field(
        default="google-imagen-3", description="Used by /v1/images/* when model is omitted"
    )
    default_video_model: str = Field(
        default="veo-3.0-generate-preview", description="Used by /v1/videos when model is omitted"
    )
    input_max_bytes: int = Field(default=20 * 1024 * 1024, description="Cap on an input image")
    input_max_pixels: int = Field(
        default=40_000_000,
        ge=1,
        description="Cap on an input image's width x height, read from its header before "
        "anything decodes it (a model's max_input_pixels may set its own)",
    )
    upload_quota_bytes: int = Field(
        default=200 * 1024 * 1024,
        ge=0,
        description="Bytes one key may upload for later tasks (Midjourney's upload) in any "
        "24 hours; 0 means no quota",
    )
    trusted_proxies: list[str] = Field(
        default=["127.0.0.1", "::1"],
        description="Addresses whose Forwarded: proto=https header is believed (the console's "
        "Secure cookie flag); '*' trusts any",
    )
    input_allow_private: bool = Field(
        default=False, description="Let input URLs reach private addresses (dev/test only)"
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Let callback URLs name private or loopback receivers (self-hosted setups)",
    )
    sandbox_live: bool = Field(
        default=False,
        description="Run live keys on the sandbox too, charging their accounts: for staging "
        "and billing rehearsals, never for production",
    )
    currency: str = Field(default="credits", description="The unit prices and balances are in")
    prices: dict[str, str] = Field(
        default_factory=dict,
        description='Price overrides per model, JSON: {"seedream-3": "0.05"} (catalogue unit)',
    )
    upstream_poll_s: float | None = Field(
        default=None, ge=0, description="Poll upstream jobs this often (default: per vendor)"
    )
    routes_file: Path | None = Field(
        default=None, description="A routes TOML of your own; its models replace the defaults"
    )
    # Upstream credentials: a provider is live when its key is set. Base URLs are settings
    # too, so a deployment can point at a proxy (or tests at a fake).
    metrics_token: str | None = Field(
        default=None,
        description="When set, /metrics answers only 'Authorization: Bearer <token>' "
        "(it shows totals of money held and charged)",
    )
    credentials: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description='Secrets per provider, JSON: {"ark": {"api_key": "...", "base_url": "..."}, '
        '"kling": {"access_key": "...", "secret_key": "..."}}; over the single settings below',
    )
    gemini_api_key: str | None = None
    gemini_base_url: str = "https://generativelanguage.googleapis.com"
    vertex_access_token: str | None = None
    vertex_project: str = ""
    vertex_location: str = "us-central1"
    vertex_base_url: str | None = None
    ark_api_key: str | None = None
    ark_base_url: str = "https://ark.ap-southeast.bytepluses.com/api/v3"
    openai_api_key: str | None = None
    openai_base_url: str = "https://api.openai.com/v1"
    gptunnel_api_key: str | None = None
    gptunnel_base_url: str = "https://gptunnel.ru"
    newapi_api_key: str | None = None
    newapi_base_url: str | None = None
    rate_limit_rpm: int = Field(
        default=600, ge=0, description="Requests per minute per key (0: no limit)"
    )
    max_queued_per_key: int = Field(
        default=1000, ge=0, description="Unfinished tasks a key may have (0: no limit)"
    )
    max_running_per_key: int = Field(
        default=0, ge=0, description="Tasks a key may have running upstream at once (0: any)"
    )
    max_running: dict[str, int] = Field(
        default_factory=lambda: {"ark": 100},
        description="Tasks running at once per provider, JSON (Ark caps queued tasks at 120)",
    )
    max_body_bytes: int = Field(
        default=32 * 1024 * 1024, description="Largest request body accepted"
    )
    webhook_first_retry_s: float = Field(
        default=5.0, gt=0, description="First webhook retry delay; it doubles, up to 1 h"
    )
    s3_bucket: str | None = Field(
        default=None, description="Store results in this S3 bucket instead of data_dir/media"
    )
    s3_endpoint: str | None = Field(
        default=None, description="S3-compatible endpoint URL (MinIO, R2, ...); default AWS"
    )
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_prefix: str | None = Field(default=None, description="Key prefix inside the bucket")
    s3_presign: bool = Field(
        default=False,
        description="Result links are presigned S3 URLs (valid url_ttl_s, or 7 days when "
        "that is 0) instead of signed mediagate URLs",
    )
    log_level: str = "info"
    log_json: bool = False

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'mediagate.db').resolve()}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"
