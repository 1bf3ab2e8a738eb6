from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from app.cli import serve
from app.context import AppContext
from app.main import create_app
from app.org import service as org
from app.org.schemas import CountyIn
from app.seed.demo import DEMO_COUNTY_CODE
from app.settings import DEMO_SECRET_KEY, Settings, get_settings
from tests.world import OPS


def test_defaults_run_on_the_embedded_database() -> None:
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.database_url.startswith("sqlite+aiosqlite")
    assert s.default_timezone == "Asia/Shanghai"


def test_production_refuses_the_demo_secret() -> None:
    with pytest.raises(ValidationError, match="demo secrets"):
        Settings(environment="production", seed_demo=False)


def test_production_with_real_secrets_starts() -> None:
    s = Settings(
        environment="production",
        seed_demo=False,
        secret_key="x" * 40,
        data_key="c2VjcmV0LWRhdGEta2V5LWZvci10ZXN0cy0wMDAwMDA=",
    )
    assert s.environment == "production"


def test_database_url_is_read_with_or_without_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u@h/db")
    assert Settings(_env_file=None).database_url == "postgresql+asyncpg://u@h/db"  # type: ignore[call-arg]


def test_unknown_timezone_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown timezone"):
        Settings(default_timezone="Mars/Olympus")


def test_no_settings_at_all_means_production_and_refuses_the_demo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 12: with nothing set, the public demo secret must not be accepted."""
    monkeypatch.delenv("KCBX_ENVIRONMENT", raising=False)
    with pytest.raises(ValidationError, match="demo secrets"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="demo data"):
        Settings(  # type: ignore[call-arg]
            _env_file=None, secret_key="x" * 40, data_key=Fernet.generate_key().decode()
        )


@pytest.mark.parametrize("environment", ["development", "test"])
def test_explicit_development_or_test_accepts_the_demo(environment: str) -> None:
    s = Settings(_env_file=None, environment=environment)  # type: ignore[call-arg]
    assert s.seed_demo and s.secret_key == DEMO_SECRET_KEY


def test_serve_refuses_to_start_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KCBX_ENVIRONMENT", raising=False)
    monkeypatch.chdir("/")  # no .env from the working copy
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit, match=r"refusing to start.*demo secrets"):
            serve.main()
    finally:
        get_settings.cache_clear()


async def test_production_refuses_a_database_holding_the_demo(ctx: AppContext) -> None:
    prod = Settings(  # type: ignore[call-arg]
        _env_file=None,
        environment="production",
        seed_demo=False,
        engine_in_process=False,
        secret_key="x" * 40,
        data_key=Fernet.generate_key().decode(),
        database_url=ctx.settings.database_url,
    )
    app = create_app(settings=prod)
    async with app.router.lifespan_context(app):
        pass  # an empty database: production starts
    async with ctx.uow() as uow:
        await org.create_county(uow, OPS, CountyIn(name="示例县", code=DEMO_COUNTY_CODE))
    app = create_app(settings=prod)
    with pytest.raises(RuntimeError, match="demo data"):
        async with app.router.lifespan_context(app):
            pass


@pytest.mark.parametrize("token", ["short", "x" * 19, "has/slash-0123456789abc", "汉字" * 10])
def test_a_guessable_sms_reply_token_is_refused(token: str) -> None:
    with pytest.raises(ValidationError, match="KCBX_GUARDIAN_SMS_REPLY_TOKEN"):
        Settings(guardian_sms_reply_token=token)  # type: ignore[arg-type]
    assert Settings(guardian_sms_reply_token="a1-" * 7)  # type: ignore[arg-type]
