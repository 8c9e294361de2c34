"""Settings, read from the environment (prefix ``HOSO_``) and an optional ``.env`` file.

Nothing is built at import time: call :func:`load_settings` (or construct
:class:`Settings` with explicit values, as the tests do) and hand the result
to :func:`ledger.bootstrap.bootstrap`. Lists are JSON, e.g.
``HOSO_AUTHORITY_KEYS='["hanoi.gov.vn/authority+1a2b3c4d+AQ..."]'``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.core.checkpoint import parse_cosignature_vkey
from ledger.core.errors import MalformedError
from ledger.core.note import parse_ed25519_vkey

DEFAULT_DATABASE_URL = "sqlite:///hoso-data/hoso.sqlite"
DEFAULT_ORIGIN = "hoso.example/hanoi"
# Development-only secrets: public, so that the demo runs with no set-up. Production
# refuses to start with them (or without secrets): see docs/privacy.md §Keys.
DEV_VAULT_KEY = hashlib.sha256(b"hoso development vault key - NOT SECRET").hexdigest()
DEV_INDEX_KEY = hashlib.sha256(b"hoso development index key - NOT SECRET").hexdigest()


class WitnessUrl(BaseModel):
    """A C2SP tlog-witness the ledger submits its checkpoints to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="The witness's submission prefix (POST <url>/add-checkpoint)")
    vkey: str = Field(description="The witness's cosignature vkey (C2SP, type 0x04)")


class Settings(BaseSettings):
    """Everything hoso needs to know about its environment."""

    model_config = SettingsConfigDict(
        env_prefix="HOSO_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="sqlite:///path (embedded default) or postgresql://user@host:port/db",
    )
    read_url: str | None = Field(
        None,
        description="A streaming-replication standby of database_url: the API reads views and"
        " proofs there (a request with `Hoso-Read-From: primary` reads the primary)",
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
    log_vkey: str | None = Field(
        None,
        description="The log key's vkey (C2SP, type 0x01): lets `hoso serve` without the"
        " keystore serve the stored, signed seal trust list and prove seals",
    )
    authority_keys: list[str] = Field(
        default_factory=list,
        description="Trust roots: vkeys (C2SP, type 0x01) of the authorities that sign key events",
    )
    witness_keys: list[str] = Field(
        default_factory=list,
        description="vkeys (C2SP, type 0x04) of witnesses whose cosignatures the ledger accepts",
    )
    witness_urls: list[WitnessUrl] = Field(
        default_factory=list,
        description='Witnesses the ledger POSTs add-checkpoint to, as [{"url": ..., "vkey":'
        " ...}]; their vkeys are accepted like HOSO_WITNESS_KEYS",
    )
    witness_timeout_s: float = Field(
        10.0, gt=0, description="Seconds to wait for one witness's answer"
    )
    signer_state_path: Path | None = Field(
        None,
        description="The checkpoint signer's memory of its last checkpoint, outside the"
        " database (default: checkpoint-signer.note beside the keystore)",
    )
    catalogue_path: Path | None = Field(
        None, description="Procedure catalogue JSON replacing the shipped one (docs/domain-time.md)"
    )
    calendar_path: Path | None = Field(
        None, description="Working calendar JSON replacing or extending the shipped one"
    )
    checkpoint_interval_s: float = Field(60.0, gt=0, description="Periodic checkpoint interval")
    pool_size: int = Field(5, ge=2, description="Connections (PostgreSQL followers need 2)")
    store_timeout_s: float = Field(
        30.0,
        gt=0,
        description="Longest wait for a pooled connection or a write lock (the API uses"
        " HOSO_API_STORE_TIMEOUT_S)",
    )
    store_attempts: int = Field(
        10, ge=1, description="Tries of a read or append on a broken connection (API: 1)"
    )
    vault_key: SecretStr = Field(
        SecretStr(DEV_VAULT_KEY),
        description="Master key wrapping each data subject's key (32 bytes, hex or base64)",
    )
    vault_old_keys: list[SecretStr] = Field(
        default_factory=list, description="Earlier master keys, still accepted for unwrapping"
    )
    index_key: SecretStr = Field(
        SecretStr(DEV_INDEX_KEY),
        description="HMAC key of the id-number index (32+ bytes, hex or base64)",
    )
    access_key_name: str = Field(
        "access-log", description="Keystore name of the system key that signs access batches"
    )
    seal_host: str = Field(
        "https://xacthuc.hoso.example",
        description="Scheme and host of the QR seal verification page (docs/seal.md)",
    )
    retention_days_without_result: int = Field(
        30,
        ge=0,
        description="Days a dossier that ended without a result is kept (set it per the"
        " agency's archive schedule; the default is only a placeholder)",
    )
    allow_dev_keys: bool = Field(
        False,
        description="Let the server run on the public development vault/index keys"
        " (`hoso serve --dev`); otherwise it refuses to start on them",
    )
    api_max_body_bytes: int = Field(
        1_048_576, ge=1024, description="API: largest request body accepted (413 above it)"
    )
    api_body_timeout_s: float = Field(
        10.0, gt=0, description="API: seconds each chunk of a request body may take (408 after)"
    )
    api_max_in_flight: int = Field(
        512, ge=1, description="API: requests one worker answers at once (429 server.busy above)"
    )
    api_public_rate: float = Field(
        20.0, ge=0, description="API: requests/s per client IP without a token (0: no limit)"
    )
    api_public_burst: float = Field(60.0, ge=1, description="API: burst of the public rate limit")
    api_token_cache_s: float = Field(
        5.0, ge=0, description="API: seconds a checked token is cached (revocation delay)"
    )
    api_store_timeout_s: float = Field(
        1.0,
        gt=0,
        description="API: longest wait for the database before answering 503 store.unavailable",
    )
    api_ready_max_lag: int = Field(
        10_000, ge=0, description="API: /readyz answers 503 when the views trail by more events"
    )
    api_fresh_s: float = Field(
        1.0,
        ge=0,
        description="API: seconds the latest signed checkpoint's size is reused by default-size"
        " proofs (0: read it for every request)",
    )
    api_access_flush_s: float = Field(
        10.0, gt=0, description="API: seconds between flushes of the personal-data access log"
    )

    @model_validator(mode="after")
    def _secrets_parse(self) -> Settings:
        secret_bytes(self.vault_key, name="HOSO_VAULT_KEY")
        secret_bytes(self.index_key, name="HOSO_INDEX_KEY")
        for i, old in enumerate(self.vault_old_keys):
            secret_bytes(old, name=f"HOSO_VAULT_OLD_KEYS[{i}]")
        for i, witness in enumerate(self.witness_urls):
            try:
                parse_cosignature_vkey(witness.vkey)
            except MalformedError as err:
                raise ValueError(f"HOSO_WITNESS_URLS[{i}].vkey: {err.detail}") from err
        if self.log_vkey is not None:
            try:
                parse_ed25519_vkey(self.log_vkey)
            except MalformedError as err:
                raise ValueError(f"HOSO_LOG_VKEY is not an Ed25519 vkey: {err.detail}") from err
        return self

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
        for name, value, dev in (
            ("HOSO_VAULT_KEY", self.vault_key, DEV_VAULT_KEY),
            ("HOSO_INDEX_KEY", self.index_key, DEV_INDEX_KEY),
        ):
            if value.get_secret_value() == dev:
                problems.append(f"{name} is the public development secret")
        if self.vault_key.get_secret_value() == self.index_key.get_secret_value():
            problems.append("HOSO_VAULT_KEY and HOSO_INDEX_KEY are the same secret")
        if problems:
            raise ValueError("refusing to start in production mode: " + "; ".join(problems))
        return self


def development_secrets(settings: Settings) -> list[str]:
    """The settings that hold a public development secret (empty for a real deployment)."""
    return [
        name
        for name, value, dev in (
            ("HOSO_VAULT_KEY", settings.vault_key, DEV_VAULT_KEY),
            ("HOSO_INDEX_KEY", settings.index_key, DEV_INDEX_KEY),
        )
        if value.get_secret_value() == dev
    ]


def secret_bytes(secret: SecretStr, *, name: str) -> bytes:
    """A key given as 64 hex digits or base64; the error never echoes the value."""
    text = secret.get_secret_value().strip()
    try:
        raw = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise ValueError(f"{name} must be 32 bytes as 64 hex digits or base64") from None
    if len(raw) < 32:
        raise ValueError(f"{name} must be at least 32 bytes, got {len(raw)}")
    return raw


def load_settings() -> Settings:
    """Settings from the process environment and ``.env``."""
    return Settings()
