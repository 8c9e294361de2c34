"""Settings, read from the environment (prefix ``HOSO_``) and an optional ``.env`` file.

Nothing is built at import time: call :func:`load_settings` (or construct
:class:`Settings` with explicit values, as the tests do) and hand the result
to :func:`ledger.bootstrap.bootstrap`. Lists are JSON, e.g.
``HOSO_AUTHORITY_KEYS='["hanoi.gov.vn/authority+1a2b3c4d+AQ..."]'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///hoso-data/hoso.sqlite"
DEFAULT_ORIGIN = "hoso.example/hanoi"


class Settings(BaseSettings):
    """Everything hoso needs to know about its environment."""

    model_config = SettingsConfigDict(env_prefix="HOSO_", env_file=".env", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="sqlite:///path (embedded default) or postgresql://user@host:port/db",
    )
    origin: str = Field(
        DEFAULT_ORIGIN, description="The ledger's origin: checkpoint origin line and log key name"
    )
    mode: Literal["development", "production"] = "development"
    keystore_path: Path = Field(
        Path("hoso-data/keystore.json"), description="Encrypted keystore (custodial keys, log key)"
    )
    keystore_passphrase: SecretStr | None = Field(
        None, description="Passphrase of the keystore; prompted for when absent"
    )
    log_key_name: str = Field("ledger-log", description="Name of the log key in the keystore")
    authority_keys: list[str] = Field(
        default_factory=list,
        description="Trust roots: vkeys (C2SP, type 0x01) of the authorities that sign key events",
    )
    witness_keys: list[str] = Field(
        default_factory=list,
        description="vkeys (C2SP, type 0x04) of witnesses whose cosignatures the ledger accepts",
    )
    catalogue_path: Path | None = Field(
        None, description="Procedure catalogue JSON replacing the shipped one (docs/domain-time.md)"
    )
    calendar_path: Path | None = Field(
        None, description="Working calendar JSON replacing or extending the shipped one"
    )
    checkpoint_interval_s: float = Field(60.0, gt=0, description="Periodic checkpoint interval")
    pool_size: int = Field(5, ge=2, description="Connections (PostgreSQL followers need 2)")

    @model_validator(mode="after")
    def _production_needs_real_trust(self) -> Settings:
        if self.mode != "production":
            return self
        problems = []
        if self.origin == DEFAULT_ORIGIN:
            problems.append("HOSO_ORIGIN is the example origin")
        if not self.authority_keys:
            problems.append("HOSO_AUTHORITY_KEYS is empty")
        if self.database_url.startswith("sqlite:"):
            problems.append("HOSO_DATABASE_URL is SQLite (use PostgreSQL in production)")
        if problems:
            raise ValueError("refusing to start in production mode: " + "; ".join(problems))
        return self


def load_settings() -> Settings:
    """Settings from the process environment and ``.env``."""
    return Settings()
