from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Settings


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
