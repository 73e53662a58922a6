"""Process settings from ``RIFTWATCH_*`` environment variables (and an optional .env file).

Every tunable number lives here, in one place, with its default.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from config.errors import config_error_from_validation
from config.timezones import zone_named

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_FEEDS_FILE = PACKAGE_DIR / "feeds.toml"
DEFAULT_THEMES_FILE = PACKAGE_DIR / "themes.toml"
# Minutes between fetches of a feed that names no interval_minutes (feeds.toml, /addfeed, the
# CLI and the store's column default); a per-feed value, so a constant rather than a variable.
DEFAULT_FEED_INTERVAL_MINUTES = 30
# What /summary and `riftwatch digest` cover by default, and what spike alerts check.
DIGEST_WINDOW_HOURS = 24
DIGEST_WINDOW = timedelta(hours=DIGEST_WINDOW_HOURS)
# How far /channel, /trend, /graph and `riftwatch graph` look back by default.
REPORT_WINDOW = timedelta(days=7)
DEFAULT_DAILY_TIME = "08:00"  # a daily subscription's time (UTC, or its zone) when none is given
# Linux's PATH_MAX and NAME_MAX, in bytes: a longer path fails ("File name too long") wherever
# it is first opened, so a path setting longer than this is refused with the rest.
# The packaged encoder's depth the shipped heads were trained at (classifiers/MODELS.md,
# "Encoder depth", has each depth's nested figures and speed).
ENCODER_DEPTH = 12
MAX_PATH_BYTES = 4096
MAX_NAME_BYTES = 255


def _split_ids(value: object) -> object:
    if isinstance(value, str):
        parts = [part.strip() for part in value.replace(";", ",").split(",")]
        return [part for part in parts if part]
    if isinstance(value, int):
        return [value]
    return value


class Settings(BaseSettings):
    """All settings; environment names are ``RIFTWATCH_`` plus the field name in capitals."""

    model_config = SettingsConfigDict(env_prefix="RIFTWATCH_", env_file=".env", extra="ignore")

    # Telegram bot
    telegram_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    analyst_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)

    # Files
    db_path: Path = Path("data/riftwatch.db")
    feeds_file: Path = DEFAULT_FEEDS_FILE
    themes_file: Path = DEFAULT_THEMES_FILE
    cache_dir: Path = Path.home() / ".cache" / "riftwatch"

    # HTTP fetching
    http_connect_timeout: float = Field(default=10.0, gt=0)
    http_read_timeout: float = Field(default=20.0, gt=0)
    http_max_bytes: int = Field(default=5_000_000, gt=0)
    http_max_redirects: int = Field(default=5, ge=0, le=20)
    allow_private_urls: bool = False
    backfill_pages: int = Field(default=3, ge=0, le=100)
    fetch_workers: int = Field(default=4, ge=1, le=32)  # feeds fetched at once, a thread each
    retry_base_seconds: float = Field(default=60.0, gt=0)
    retry_max_seconds: float = Field(default=6 * 3600.0, gt=0)
    # One URL (all hops) must finish within this many read timeouts: a server that drips a byte
    # just inside each read timeout ("slow loris") cannot hold a worker forever.
    http_total_timeout_factor: float = Field(default=3.0, ge=1.0, le=100.0)

    # Fetch schedule (riftwatch run)
    schedule_refresh_seconds: float = Field(default=60.0, gt=0)  # feed jobs re-read the table
    schedule_first_run_seconds: float = Field(default=30.0, ge=0)  # first fetches spread over
    schedule_jitter_seconds: float = Field(default=120.0, ge=0)  # random delay per fetch, at most
    schedule_jitter_share: float = Field(default=0.1, ge=0, le=1)  # ...and this share of interval
    schedule_misfire_grace_seconds: int = Field(default=300, ge=1)  # a late fetch still runs

    # Classifier
    model: Path | None = None
    # transformer layers of the packaged model to run (its first k of 12): fewer are faster;
    # the shipped heads are trained at ENCODER_DEPTH, another depth needs its own training
    encoder_depth: int = Field(default=ENCODER_DEPTH, ge=1, le=12)
    threads: int = Field(default=2, ge=1, le=256)
    batch_size: int = Field(default=16, ge=1, le=512)  # windows per encoder forward pass
    # posts per classifier call (and per committed scoring batch: a crash loses at most this
    # many posts' work); per-call costs (heads, NER, lingua) are shared across the batch
    score_batch_posts: int = Field(default=128, ge=1, le=4096)
    max_tokens: int = Field(default=256, ge=16, le=512)
    max_post_chars: int = Field(default=20_000, ge=100)  # of a post the classifier reads
    precision: Literal["auto", "fp32", "bf16", "int8"] = "auto"  # auto: measured per CPU
    # calibrated P(critical) at which a post is called critical; unset: the threshold the
    # training protocol chose (classifiers/artifacts/heads.json). Higher: fewer, surer posts.
    critical_threshold: float | None = Field(default=None, gt=0.0, lt=1.0)

    # Files an analyst brings (score, eval --data, import telegram-export)
    max_record_chars: int = Field(default=1_000_000, ge=1_000)  # one line or record, at most

    # Baseline and digest
    baseline_days: int = Field(default=14, ge=1, le=365)
    spike_lift: float = Field(default=2.0, gt=1.0)
    spike_z: float = Field(default=2.0, gt=0)
    spike_min_count: int = Field(default=3, ge=1)
    spike_cooldown_hours: float = Field(default=24.0, ge=1.0, le=24 * 30)  # per chat+theme
    # What a composed digest holds (all of it in --format json) ...
    digest_posts_per_theme: int = Field(default=3, ge=1, le=100)  # best posts per shown theme
    digest_rift_evidence: int = Field(default=2, ge=1, le=100)  # posts kept per rift
    digest_newest_per_channel: int = Field(default=2, ge=1, le=100)  # when no theme quotes any
    # ... and how many rows the text and Telegram digests show ("and N more" for the rest)
    digest_themes_shown: int = Field(default=8, ge=1, le=100)
    digest_rifts_shown: int = Field(default=8, ge=1, le=100)
    digest_rift_evidence_shown: int = Field(default=1, ge=0, le=100)  # posts under each rift
    digest_new_targets_shown: int = Field(default=10, ge=1, le=100)  # first attacked in window
    digest_channels_shown: int = Field(default=15, ge=1, le=1000)
    digest_unwatched_shown: int = Field(default=3, ge=1, le=100)  # amplified, not watched

    # Amplification graph and the Spreading section
    edge_batch_size: int = Field(default=500, ge=1, le=100_000)  # items per extraction commit
    quote_threshold: float = Field(default=0.6, gt=0.0, lt=1.0)  # Jaccard of two quoted texts
    quote_num_perm: int = Field(default=64, ge=16, le=512)  # MinHash permutations
    quote_shingle_chars: int = Field(default=5, ge=2, le=20)  # character shingles
    quote_window_hours: float = Field(default=72.0, gt=0, le=24 * 30)  # how far apart a quote
    quote_min_chars: int = Field(default=60, ge=10)  # shorter posts are never called quotes
    spread_min_channels: int = Field(default=2, ge=1)  # other channels picking a post up
    spread_top_pairs: int = Field(default=5, ge=0, le=50)  # amplifier pairs in the digest
    spread_cooldown_hours: float = Field(default=1.0, ge=0.0, le=24 * 30)  # per chat, alerts
    graph_png_max_nodes: int = Field(default=60, ge=2, le=1000)  # busiest nodes drawn

    # Watch-lists and alerts: /watch, riftwatch watch
    watch_cooldown_minutes: float = Field(default=15.0, ge=0.0, le=30 * 24 * 60)  # per watch
    watch_max_per_chat: int = Field(default=50, ge=1, le=1000)
    watch_max_chars: int = Field(default=200, ge=10, le=2000)  # a watch as typed, pattern too
    watch_max_post_age_hours: float = Field(default=48.0, gt=0, le=24 * 30)  # older: no alert
    # What changed after a post was stored: edits, deletions, view counts
    history_retention_days: int = Field(default=30, ge=1, le=3650)  # versions and view samples
    digest_changes_shown: int = Field(default=5, ge=1, le=100)  # deleted or edited critical posts
    views_fastest_shown: int = Field(default=3, ge=1, le=100)  # fastest-spreading by views
    views_min_channel_posts: int = Field(default=3, ge=1, le=1000)  # posts a channel's usual needs
    # New storylines: the window's critical posts clustered by their search vectors
    storyline_min_cluster_size: int = Field(default=3, ge=2, le=1000)  # posts, copies folded
    storyline_min_channels: int = Field(default=2, ge=1, le=1000)  # distinct channels writing
    storyline_copy_cosine: float = Field(default=0.97, gt=0.0, le=1.0)  # a repost, folded
    storyline_novelty_cosine: float = Field(default=0.93, gt=0.0, le=1.0)  # earlier: not new
    storyline_novelty_days: int = Field(default=14, ge=1, le=365)  # earlier posts compared
    digest_storylines_shown: int = Field(default=3, ge=1, le=100)  # new storylines listed

    timezone: str = "UTC"
    log_level: str = "INFO"

    @field_validator("admin_ids", "analyst_ids", mode="before")
    @classmethod
    def _parse_id_list(cls, value: object) -> object:
        return _split_ids(value)

    @field_validator("db_path", "feeds_file", "themes_file", "cache_dir", "model")
    @classmethod
    def _check_path_length(cls, value: Path | None) -> Path | None:
        if value is not None and (len(bytes(value)) > MAX_PATH_BYTES or any(
                len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES
                for part in value.parts)):
            raise ValueError(f"longer than a path can be ({MAX_PATH_BYTES} bytes, "
                             f"{MAX_NAME_BYTES} a name)")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        zone_named(value)
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return upper

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admin_ids

    def is_analyst(self, user_id: int | None) -> bool:
        return user_id is not None and (user_id in self.analyst_ids or self.is_admin(user_id))


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; raise ConfigError naming the bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first_key = str(exc.errors()[0]["loc"][0]) if exc.errors() else "?"
        raise config_error_from_validation(
            "environment",
            exc,
            fix_hint=f"set RIFTWATCH_{first_key.upper()} to a valid value or unset it",
        ) from None
