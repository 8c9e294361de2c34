"""Settings and database URLs: clear errors for bad input, no secrets in messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from ledger.settings import Settings, secret_bytes
from ledger.storage.database import MalformedDatabaseUrl, parse_database_url


def test_defaults_are_embedded_sqlite(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("HOSO_DATABASE_URL", "HOSO_MODE"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.mode == "development"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOSO_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    monkeypatch.setenv("HOSO_AUTHORITY_KEYS", '["a+00000000+AA=="]')
    settings = Settings()
    assert settings.database_url.endswith("/test")
    assert settings.authority_keys == ["a+00000000+AA=="]


def test_production_refuses_example_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValidationError) as info:
        Settings(mode="production")
    message = str(info.value)
    assert "HOSO_ORIGIN is the example origin" in message
    assert "HOSO_AUTHORITY_KEYS is empty" in message
    assert "SQLite" in message
    assert "HOSO_VAULT_KEY is the public development secret" in message
    assert "HOSO_INDEX_KEY is the public development secret" in message
    real = {
        "mode": "production",
        "origin": "dossiers.hanoi.gov.vn/ledger-2026",
        "authority_keys": ["x"],
        "database_url": "postgresql://hoso@db:5432/hoso",
        "vault_key": SecretStr("11" * 32),
        "index_key": SecretStr("22" * 32),
    }
    ok = Settings(**real)  # type: ignore[arg-type]
    assert ok.mode == "production"
    with pytest.raises(ValidationError, match="are the same secret"):
        Settings(**{**real, "index_key": SecretStr("11" * 32)})  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "zz" * 32, "AAAA", "11" * 31])
def test_secret_keys_must_parse_and_errors_never_echo_them(bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        Settings(vault_key=SecretStr(bad))
    assert "HOSO_VAULT_KEY must be" in str(info.value)
    if bad:
        assert bad not in str(info.value)


def test_secrets_are_hidden_in_repr() -> None:
    settings = Settings(vault_key=SecretStr("33" * 32), index_key=SecretStr("44" * 32))
    assert "33" * 32 not in repr(settings)
    assert "44" * 32 not in repr(settings)
    assert secret_bytes(settings.vault_key, name="k") == bytes.fromhex("33" * 32)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://x/y", "unsupported scheme"),
        ("sqlite://relative.db", "three slashes"),
        ("sqlite:///", "names no file"),
        ("postgresql://user:pw@/db", "name a host and a database"),
        ("postgresql://host:99999/db", "bad port"),
    ],
)
def test_bad_database_urls(url: str, fragment: str) -> None:
    with pytest.raises(MalformedDatabaseUrl) as info:
        parse_database_url(url)
    assert fragment in str(info.value)
    assert info.value.check == "settings.database_url"


def test_database_url_never_shows_the_password() -> None:
    parsed = parse_database_url("postgresql://hoso:s3cret@db.internal:5433/ledger")
    assert (parsed.host, parsed.port, parsed.user, parsed.dbname) == (
        "db.internal",
        5433,
        "hoso",
        "ledger",
    )
    assert parsed.password == "s3cret"  # noqa: S105 (a made-up password under test)
    assert "s3cret" not in repr(parsed)
    assert "s3cret" not in str(parsed)
