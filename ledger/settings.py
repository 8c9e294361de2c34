"""Settings, read from the environment (prefix ``HOSO_``) and an optional ``.env`` file.

Nothing is built at import time: call :func:`load_settings` (or construct
:class:`Settings` with explicit values, as the tests do) and hand the result
to :mod:`ledger.bootstrap`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///hoso-data/hoso.sqlite"


class Settings(BaseSettings):
    """Everything hoso needs to know about its environment."""

    model_config = SettingsConfigDict(env_prefix="HOSO_", env_file=".env", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="sqlite:///path (embedded default) or postgresql://user@host:port/db",
    )
    origin: str = Field(
        "hoso.example/hanoi", description="The ledger's origin: checkpoint origin line and key name"
    )
    mode: Literal["development", "production"] = "development"
    keystore_path: Path = Field(Path("hoso-data/keystore.hoso"))
    keystore_passphrase: SecretStr | None = None
    pool_size: int = Field(5, ge=2, description="PostgreSQL connections (the follower needs 2)")


def load_settings() -> Settings:
    """Settings from the process environment and ``.env``."""
    return Settings()
