"""API tokens: issued by an admin command, stored hashed, revocable, with expiry.

A token reads ``hoso_<id>_<secret>``: the id (16 hex digits) finds the row, the
secret (32 random bytes, base64url) is checked against its SHA-256. The secret
is shown once, when issued, and stored nowhere. Citizens' tokens name the data
subject by its commitment (from the vault's id-number index), never by the id
number itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from ledger.core.errors import MalformedError, NotFoundError
from ledger.storage.sql import Sql

Kind = Literal["officer", "system", "inspector", "citizen", "witness"]
KINDS: Final = frozenset(get_args(Kind))
TABLE: Final = "hoso_api_tokens"
PREFIX: Final = "hoso_"
_ID_HEX: Final = 16

_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    " token_id TEXT PRIMARY KEY, secret_hash {blob} NOT NULL, kind TEXT NOT NULL,"
    " actor TEXT NOT NULL, agency TEXT NOT NULL, subject {blob}, key_name TEXT,"
    " expires_us BIGINT, revoked_us BIGINT, created_us BIGINT NOT NULL)"
)
_COLUMNS = "token_id, kind, actor, agency, subject, key_name, expires_us, revoked_us, created_us"


class MalformedToken(MalformedError):
    check = "auth.token_shape"


class TokenUnknown(NotFoundError):
    check = "auth.token_unknown"


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A stored token, without its secret."""

    token_id: str
    kind: Kind
    actor: str
    agency: str
    subject: bytes | None
    key_name: str | None
    expires_us: int | None
    revoked_us: int | None
    created_us: int

    def active(self, now_us: int) -> bool:
        if self.revoked_us is not None:
            return False
        return self.expires_us is None or now_us < self.expires_us


@dataclass(frozen=True, slots=True)
class Issued:
    record: TokenRecord
    token: str  # the bearer credential: shown once


def split_token(token: str) -> tuple[str, str]:
    """``hoso_<id>_<secret>`` → (id, secret); MalformedToken otherwise."""
    if not token.startswith(PREFIX):
        raise MalformedToken("a hoso token starts with hoso_")
    token_id, sep, secret = token[len(PREFIX) :].partition("_")
    if not sep or len(token_id) != _ID_HEX or not secret or len(secret) > 64:
        raise MalformedToken("a hoso token reads hoso_<16 hex digits>_<secret>")
    try:
        int(token_id, 16)
    except ValueError:
        raise MalformedToken("the token id is not hex") from None
    return token_id, secret


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class TokenStore:
    def __init__(self, sql: Sql, *, clock_us: Callable[[], int]) -> None:
        self.sql = sql
        self.clock_us = clock_us

    def create_table(self) -> None:
        try:
            with self.sql.transaction() as curs:
                curs.execute(_CREATE.format(blob=self.sql.blob))
        except Exception:
            # Two processes creating it at once (PostgreSQL's catalog race): it exists now.
            self.sql.rows(f"SELECT 1 FROM {TABLE} WHERE 1 = 0")  # noqa: S608

    def issue(
        self,
        *,
        kind: Kind,
        actor: str,
        agency: str,
        subject: bytes | None = None,
        key_name: str | None = None,
        expires_us: int | None = None,
    ) -> Issued:
        if kind not in KINDS:
            raise MalformedToken(f"kind must be one of {sorted(KINDS)}", where="kind")
        if (kind == "citizen") != (subject is not None):
            raise MalformedToken("citizen tokens, and only they, name a subject", where="subject")
        token_id = secrets.token_hex(_ID_HEX // 2)
        secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        now = self.clock_us()
        record = TokenRecord(
            token_id, kind, actor, agency, subject, key_name, expires_us, None, now
        )
        with self.sql.transaction() as curs:
            curs.execute(
                f"INSERT INTO {TABLE} (token_id, secret_hash, kind, actor, agency, subject,"  # noqa: S608
                " key_name, expires_us, revoked_us, created_us)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, NULL, %s)",
                [
                    token_id,
                    _digest(secret),
                    kind,
                    actor,
                    agency,
                    subject,
                    key_name,
                    expires_us,
                    now,
                ],
            )
        return Issued(record, f"{PREFIX}{token_id}_{secret}")

    def authenticate(self, token: str) -> TokenRecord | None:
        """The token's record if the secret matches and it is active; None otherwise."""
        token_id, secret = split_token(token)
        rows = self.sql.rows(
            f"SELECT secret_hash, {_COLUMNS} FROM {TABLE} WHERE token_id = %s",  # noqa: S608
            [token_id],
        )
        if not rows or not hmac.compare_digest(bytes(rows[0]["secret_hash"]), _digest(secret)):
            return None
        record = _record(rows[0])
        return record if record.active(self.clock_us()) else None

    def list(self) -> list[TokenRecord]:
        rows = self.sql.rows(f"SELECT {_COLUMNS} FROM {TABLE} ORDER BY created_us, token_id")  # noqa: S608
        return [_record(r) for r in rows]

    def revoke(self, token_id: str) -> TokenRecord:
        with self.sql.transaction() as curs:
            curs.execute(
                f"UPDATE {TABLE} SET revoked_us = %s WHERE token_id = %s AND revoked_us IS NULL",  # noqa: S608
                [self.clock_us(), token_id],
            )
        rows = self.sql.rows(f"SELECT {_COLUMNS} FROM {TABLE} WHERE token_id = %s", [token_id])  # noqa: S608
        if not rows:
            raise TokenUnknown("no token with this id", found=token_id)
        return _record(rows[0])


def _record(row: Any) -> TokenRecord:
    subject = row["subject"]
    return TokenRecord(
        token_id=str(row["token_id"]),
        kind=row["kind"],
        actor=str(row["actor"]),
        agency=str(row["agency"]),
        subject=None if subject is None else bytes(subject),
        key_name=row["key_name"],
        expires_us=None if row["expires_us"] is None else int(row["expires_us"]),
        revoked_us=None if row["revoked_us"] is None else int(row["revoked_us"]),
        created_us=int(row["created_us"]),
    )
