"""Configuration from environment variables prefixed ``KCBX_`` (and an optional ``.env``).

Safe by default: ``KCBX_ENVIRONMENT`` defaults to ``production``, which refuses to start with
the public demo secrets, demo data or the simulation clock. ``make run`` sets ``development``
(embedded SQLite, demo secrets, demo data) and the tests set ``test``; only those two
explicit settings accept the demo values.
``DATABASE_URL`` is also accepted without the prefix, as most hosting platforms set it.
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import ip_network
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.channel_settings import ChannelEndpoints, OutboundPolicy, WechatTemplateConfig
from app.core.types import Instant

DEMO_SECRET_KEY = "demo-secret-key-change-me-in-production-0000"
DEMO_DATA_KEY = "ZGVtby1kYXRhLWtleS1jaGFuZ2UtbWUtMDAwMDAwMDA="


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KCBX_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
    )

    environment: Literal["development", "test", "production"] = "production"
    database_url: str = Field(
        default="sqlite+aiosqlite:///./var/kcbx.db",
        validation_alias=AliasChoices("KCBX_DATABASE_URL", "DATABASE_URL"),
    )
    database_echo: bool = False
    default_timezone: str = "Asia/Shanghai"

    # Signs access tokens (HS256). At least 32 characters.
    secret_key: str = Field(default=DEMO_SECRET_KEY, min_length=32)
    # Fernet key (urlsafe base64 of 32 bytes) encrypting ID numbers at rest, and keying their
    # blind index so uniqueness can be checked without decrypting.
    data_key: str = DEMO_DATA_KEY
    access_token_minutes: int = Field(default=12 * 60, ge=1)
    jwt_issuer: str = "kcbx"

    # Attendance intake.
    attendance_batch_limit: int = Field(default=500, ge=1, le=5000)
    # How far in the future an observation may be stamped (phones' clocks drift).
    attendance_future_minutes: int = Field(default=10, ge=0)
    # How far back a roll may be synced late (days before the school's today). Within it a
    # roll is recorded (class log, three lists, ledgers); the alert engine judges only the
    # last 45 days of it (a call "within 1 hour" of a two-month-old absence helps nobody).
    # Older is rejected as ``too_old``. See README, "Rolls synced late".
    attendance_backfill_days: int = Field(default=90, ge=1, le=366)
    # Issue 21, 因病缺勤: a return after this many school days of illness (or any notifiable
    # disease) needs a 复课证明; an open cluster alert absorbs later cases this many school
    # days after the day it was raised.
    illness_certificate_days: int = Field(default=3, ge=1, le=60)
    illness_absorb_school_days: int = Field(default=3, ge=0, le=30)
    # The engine applies the cluster rules to the days the roll changed this often (the
    # ``illness-clusters`` job): the "alert within a minute of the third roll".
    illness_detect_seconds: int = Field(default=60, ge=1, le=3600)
    # How long after a check's time the roll counts as not taken (the engine reminds then).
    roll_grace_minutes: int = Field(default=30, ge=0)

    # Request bodies (app/api/guards.py): JSON and forms at most this; 413 beyond.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Uploaded rosters (CSV/XLSX) at most this many bytes, checked while they stream.
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # Rows one import file may hold (students, school-age children); more → 413 at once.
    import_max_rows: int = Field(default=20_000, ge=1)
    # An import's report lists at most this many problems (and counts all of them).
    import_max_problems: int = Field(default=1000, ge=1)
    # Bounded workbooks (README "Input limits"; app/core/workbooks.py). Before an XLSX is
    # parsed its zip directory is judged: parts, each part's and all parts' declared size
    # uncompressed, a part's compression ratio (parts over 1 MiB). While it streams: shared
    # strings, cells in one row, characters in one cell (the last two for CSV too). 413 beyond.
    import_max_parts: int = Field(default=1000, ge=10)
    import_max_part_bytes: int = Field(default=100 * 1024 * 1024, ge=1024 * 1024)
    import_max_unpacked_bytes: int = Field(default=200 * 1024 * 1024, ge=1024 * 1024)
    import_max_ratio: float = Field(default=100, ge=10)
    import_max_shared_strings: int = Field(default=500_000, ge=1000)
    import_max_row_cells: int = Field(default=16_384, ge=200)
    import_max_cell_chars: int = Field(default=32_767, ge=1000)
    # Reading and checking one import's file stops after this many seconds (413); at most
    # this many imports run at once in one process, another is answered 429 with Retry-After.
    import_time_limit_seconds: float = Field(default=120, gt=0)
    import_max_concurrent: int = Field(default=2, ge=1)

    # Per-process caches of reference data (see app/core/cache.py); 0 turns one off.
    reference_cache_seconds: float = Field(default=60, ge=0)
    actor_cache_seconds: float = Field(default=10, ge=0)

    # Sign-in throttle (app/org/throttle.py), counted across processes in the database.
    sign_in_window_seconds: int = Field(default=900, ge=1)
    sign_in_account_failures: int = Field(default=5, ge=1)
    # Beyond this an address's *wrong* credentials answer 429; right ones still sign in (one
    # NAT or proxy address is shared by a whole school).
    sign_in_client_failures: int = Field(default=100, ge=1)
    # Proxies whose X-Forwarded-For is believed (uvicorn's forwarded_allow_ips and the sign-in
    # throttle's client address): addresses or networks, comma-separated, or "*".
    trusted_proxies: str = "127.0.0.1"

    # The alert engine: inside the API process (make run), or its own (python -m app.jobs).
    engine_in_process: bool = True
    engine_poll_seconds: float = Field(default=0.5, gt=0)
    # After an outage: the notices caused by deadlines firing more than this many minutes
    # after they were due go to the inbox as usual but are pushed as one digest per recipient
    # (not one message each): nobody is woken by a flood of week-old reminders, nothing is
    # skipped. Deadlines that fail to fire are retried after a backoff starting here, doubling
    # up to an hour.
    engine_digest_after_minutes: int = Field(default=360, ge=1)
    engine_retry_seconds: float = Field(default=60, gt=0)
    # Sweep batches in flight at once in one engine (PostgreSQL; SQLite has one writer): one
    # batch's Python overlaps another's statements. Each is a transaction and a connection.
    engine_sweep_lanes: int = Field(default=2, ge=1, le=8)
    # Seconds after the engine starts before the jobs that run every ten minutes or hourly
    # (measures, care reminders, partitions, …) first run: the sweep's catch-up goes first.
    engine_catch_up_seconds: float = Field(default=120, ge=0)
    # Drills and integration tests: an API sets or advances the clock. Refused in production.
    # One clock for the deployment, kept in the database (see app/jobs/sim_clock.py).
    simulation_clock: bool = False
    # Where a new drill deployment's clock starts (e.g. 2026-08-31T08:00:00+08:00); the wall
    # clock when unset. Read once, when the database has no clock yet: after that the stored
    # clock wins, so a restart never moves it.
    simulation_clock_start: Instant | None = None
    # How long a process may use its copy of the clock before reading the row again. 0: every
    # request and every engine tick reads it (one primary-key read; drills only).
    simulation_clock_ttl_seconds: float = Field(default=0.0, ge=0, le=60)
    # The county a drill deployment rehearses (its id): its county admins (and its county keys
    # granted the drill scope) may move the clock besides the operator. Unset: the operator only.
    drill_county: int | None = Field(default=None, ge=1)

    # Delivery channels: vendor base URLs, WeChat and SMS credentials, case links
    # (e.g. KCBX_CHANNELS__SMS_ENDPOINT). Robots and webhooks are configured per school/county.
    channels: ChannelEndpoints = Field(default_factory=ChannelEndpoints)
    delivery_poll_seconds: float = Field(default=1.0, gt=0)
    # Where delivery may connect (app/delivery/channels/outbound.py): robots on the platforms'
    # hosts, nothing to loopback/private/link-local addresses unless allowed here, e.g.
    # KCBX_OUTBOUND__ALLOW_NETWORKS='["10.8.0.0/16"]' for a county system on a private network.
    outbound: OutboundPolicy = Field(default_factory=OutboundPolicy)

    # Operations (README, "Operations"): logs for every process; the Prometheus scrape.
    log_format: Literal["plain", "json"] = "plain"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # GET /metrics (and GET /engine/health) with "Authorization: Bearer <token>". Unset:
    # /metrics answers 404 (off by default). At least 32 characters.
    metrics_token: SecretStr | None = Field(default=None, min_length=32)
    # A separate engine (python -m app.jobs) serves its own in-process figures on this port
    # (prometheus_client's server, no token: an internal port). Unset: none.
    engine_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # Browser origins allowed to call the API (CORS; app/api/headers.py): none by default.
    # Exact origins, e.g. KCBX_CORS_ORIGINS='["https://console.county.example"]'; no "*".
    cors_origins: list[str] = Field(default_factory=list)
    # Strict-Transport-Security max-age on answers served over TLS (0: never sent).
    hsts_seconds: int = Field(default=365 * 24 * 3600, ge=0)

    host: str = "127.0.0.1"
    port: int = 8000
    seed_demo: bool = True
    # Access logs are kept this long (网络安全法 第21条: at least six months).
    access_log_days: int = Field(default=400, ge=180)
    demo_password: str = "demo1234"

    # --- the family (issue 22, app/guardians) ---------------------------------------------
    # Legal basis for messaging guardians: 个人信息保护法 第13条第一款第三项 (necessary to fulfil
    # a statutory duty: 预防未成年人犯罪法 第34条, the school contacts the guardian of an absent
    # pupil), not consent. Guardians' data used: name, relation, mobile (the roster's), the
    # children's masked names and the day's absence; never a diagnosis, class notes or staff
    # details. Each school opts in (PUT /schools/{id}/guardian-notices).
    # The answer page the message links to; ``{token}`` is the signed link token.
    guardian_answer_url: str = "https://kcbx.example.cn/g/{token}"
    # How long an answer link stays valid (real clock), and answers accepted per guardian per
    # hour (every attempt with a valid link counts).
    guardian_link_hours: int = Field(default=16, ge=1, le=72)
    guardian_answers_per_hour: int = Field(default=20, ge=1, le=1000)
    # The parents' mini-program (WeChat sign-in of guardians); the staff mini-program's appid
    # and secret are KCBX_CHANNELS__WECHAT_APPID / _SECRET (also its subscribe messages).
    guardian_wechat_appid: str = Field(default="", max_length=64)
    guardian_wechat_secret: SecretStr = SecretStr("")
    wechat_login_base: str = "https://api.weixin.qq.com"  # jscode2session's host
    # The parents' mini-program's subscribe-message template for guardian notices (its id
    # from the 订阅消息 console and which message param fills each keyword: school, students,
    # check, at_full, code, link, topic), e.g. KCBX_GUARDIAN_WECHAT_TEMPLATE='{"template_id":
    # "…", "fields": {"thing1": "school", "name2": "students", "thing3": "check", "time4":
    # "at_full"}}'. Without it (or without the appid/secret) guardians get no WeChat message
    # and the next guardian channel (SMS) is used. Sent through KCBX_CHANNELS__WECHAT_BASE.
    guardian_wechat_template: WechatTemplateConfig | None = None
    # Guardians' SMS replies (Tencent Cloud 短信回复 callback): the secret last part of the
    # callback URL set in Tencent's console, POST /api/v1/sms/replies/tencent/<this>. Tencent
    # does not sign callbacks, so this is what keeps others from answering for a guardian;
    # unset (the default): the callback does not exist (404).
    guardian_sms_reply_token: SecretStr = SecretStr("")
    # Absences reported ahead by a guardian: at most this many days in one report without
    # the school's approval, starting at most this many days ahead.
    guardian_report_max_days: int = Field(default=3, ge=1, le=60)
    guardian_report_ahead_days: int = Field(default=14, ge=0, le=90)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        for entry in (e.strip() for e in value.split(",")):
            if entry and entry != "*":
                try:
                    ip_network(entry, strict=False)
                except ValueError as exc:
                    raise ValueError(
                        f"KCBX_TRUSTED_PROXIES: not an address or network: {entry!r}"
                    ) from exc
        return value

    @field_validator("guardian_sms_reply_token")
    @classmethod
    def _reply_token_is_a_secret(cls, value: SecretStr) -> SecretStr:
        # The callback URL is the only credential of a guardian's SMS reply: not guessable,
        # and one path segment.
        token = value.get_secret_value()
        plain = token.replace("-", "").replace("_", "")
        if token and (len(token) < 20 or not (plain.isascii() and plain.isalnum())):
            raise ValueError(
                "KCBX_GUARDIAN_SMS_REPLY_TOKEN: at least 20 letters, digits, - or _ (or unset)"
            )
        return value

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            parts = urlsplit(origin)
            exact = (
                parts.scheme in ("http", "https")
                and bool(parts.hostname)
                and "*" not in origin
                and parts.path in ("", "/")
                and not (parts.query or parts.fragment or parts.username)
            )
            if not exact:
                raise ValueError(
                    f"not an origin {origin!r}: give scheme://host[:port] exactly, no '*', no path"
                )
        return [o.rstrip("/") for o in value]

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _production_is_not_a_demo(self) -> Settings:
        if self.environment == "production":
            hint = " (or KCBX_ENVIRONMENT=development for a demo on this machine)"
            if self.secret_key == DEMO_SECRET_KEY or self.data_key == DEMO_DATA_KEY:
                raise ValueError(
                    "production refuses the demo secrets: set KCBX_SECRET_KEY and KCBX_DATA_KEY"
                    + hint
                )
            if self.seed_demo:
                raise ValueError("production refuses demo data: set KCBX_SEED_DEMO=false" + hint)
            if self.simulation_clock or self.simulation_clock_start or self.drill_county:
                raise ValueError("production refuses the simulation clock")
        for name, value in (
            ("KCBX_SIMULATION_CLOCK_START", self.simulation_clock_start),
            ("KCBX_DRILL_COUNTY", self.drill_county),
        ):
            if value is not None and not self.simulation_clock:
                raise ValueError(f"{name} needs KCBX_SIMULATION_CLOCK=true (a drill deployment)")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
