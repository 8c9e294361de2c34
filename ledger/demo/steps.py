"""The steps of ``hoso demo`` after the ledger is generated: projections and rule
findings, result sheets with QR seals, the offline verifier with its HTML report,
the tamper check, and what ``hoso serve`` needs to browse the result.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

from ledger.bootstrap import Ledger, bootstrap
from ledger.core.errors import HosoError
from ledger.core.event import parse_record, verify_signatures
from ledger.core.registry import REGISTRY_STREAM
from ledger.core.signing import Signer
from ledger.demo.generate import GeneratedLedger, privacy_keys
from ledger.demo.generator.hanoi import AGENCY_NAMES, STAFF
from ledger.demo.generator.run import RETENTION_US
from ledger.services.dossiers import DossierService
from ledger.services.seals.issue import SEAL_ROLE, SealParts, signed_trust_list
from ledger.services.seals.sheet import write_result_sheets
from ledger.services.status_lists import publish
from ledger.services.verify_source import DatabaseSource
from ledger.settings import Settings
from ledger.storage.checkpoints import Checkpoints
from ledger.storage.status_entries import StatusEntries
from projections.engine import Engine
from projections.rebuild import rebuild
from projections.rule_findings import refresh_rule_findings
from verify.html import render_html
from verify.run import Report, verify_ledger
from verify.trust import parse_trust

Tick = Callable[[int, int], None]
DEMO_HOST = "https://xacthuc.hoso.example"
NOW_US = 1_782_864_000_000_000  # 2026-07-01T00:00:00Z: after every event of the demo


@dataclass(frozen=True, slots=True)
class Sheets:
    count: int
    folder: Path
    pngs: bool
    trust_list: Path
    command: str


def settings_for(db: str, generated: GeneratedLedger) -> Settings:
    """The settings of a generated ledger with personal data (its vault keys come from
    the seed, as the generator derived them)."""
    keys = generated.privacy_keys or privacy_keys(generated.seed)
    return Settings(
        database_url=db,
        origin=generated.origin,
        authority_keys=[generated.authority_vkey],
        witness_keys=[generated.witness_vkey],
        vault_key=SecretStr(keys.vault_key.hex()),
        index_key=SecretStr(keys.index_key.hex()),
    )


def open_ledger(db: str, generated: GeneratedLedger) -> Ledger:
    return bootstrap(settings_for(db, generated), clock_us=lambda: NOW_US)


def projections_and_findings(ledger: Ledger, tick: Tick) -> int:
    """Rebuild every view, then refresh the rule findings; return how many there are."""
    engine = Engine(ledger.backend, book=ledger.catalogue, calendar=ledger.calendar)
    rebuild(engine, progress=lambda position, last: tick(position, 2 * max(last, 1)))
    last = int(ledger.backend.recorder.max_notification_id() or 0)
    done = refresh_rule_findings(
        ledger.backend,
        ledger.auditors(),
        now_us=NOW_US,
        progress=lambda d, t: tick(last + d * last // max(t, 1), 2 * last),
    )
    return done.findings


def valid_results(
    dossiers: DossierService,
    codes: Iterable[str],
    seal_keys: Mapping[str, Signer],
    *,
    sample: int | None = None,
) -> list[tuple[str, str, Signer]]:
    """(dossier, result number, agency seal key) of every valid result of an agency in
    ``seal_keys``, in dossier order, at most ``sample`` of them."""
    picked: list[tuple[str, str, Signer]] = []
    for code in codes:
        state = dossiers.state(code)
        if state is None or state.agency not in seal_keys:
            continue
        for number, result in sorted(state.results.items()):
            if sample is not None and len(picked) >= sample:
                return picked
            if result.status == "valid":
                picked.append((code, number, seal_keys[state.agency]))
    return picked


def write_sheets(
    parts: SealParts,
    picked: Sequence[tuple[str, str, Signer]],
    folder: Path,
    *,
    origin: str,
    log_vkey: str,
    now_us: int,
    agency_names: Mapping[str, str],
) -> Sheets:
    """Sheets with QR seals for ``picked``, the signed trust list beside them, and the
    ``hoso seal verify`` command that accepts them."""
    folder.mkdir(parents=True, exist_ok=True)
    written, pngs = write_result_sheets(
        parts, list(picked), out=folder, host=DEMO_HOST, agency_names=agency_names
    )
    trust = folder / "trust-list.note"
    trust.write_bytes(signed_trust_list(parts, origin=origin, now_us=now_us).serialise())
    lists = status_lists(parts, picked, folder, now_us=now_us)
    first = written[0].with_name(written[0].stem + "-qr.png") if written else folder
    command = f"hoso seal verify {first} --trust {trust} --trust-key '{log_vkey}'"
    if picked:
        code, number, _ = picked[0]
        agency = parts.dossiers.state(code).agency  # type: ignore[union-attr]
        entry = StatusEntries(parts.log.backend).entry(agency, code, number)
        if entry is not None and (agency, entry.list_no) in lists:
            when = datetime.fromtimestamp(now_us // 1_000_000, UTC).isoformat()
            command += f" --status-list {lists[(agency, entry.list_no)]} --now {when}"
    return Sheets(len(written), folder, pngs, trust, command)


def status_lists(
    parts: SealParts,
    picked: Sequence[tuple[str, str, Signer]],
    folder: Path,
    *,
    now_us: int,
) -> dict[tuple[str, int], Path]:
    """Each sealing agency's signed status lists (docs/formats.md §13), published in the
    log and written beside the sheets as ``<agency>-<n>.hsl``."""
    signers = {}
    for code, _, signer in picked:
        state = parts.dossiers.state(code)
        if state is not None:
            signers[state.agency] = signer
    out = {}
    for agency, signer in sorted(signers.items()):
        for item in publish(
            parts.dossiers.store, parts.log, parts.keys, agency, signer, now_us=now_us
        ):
            path = folder / f"{agency}-{item.status_list.body.list_no}.hsl"
            path.write_bytes(item.status_list.document)
            out[(agency, item.status_list.body.list_no)] = path
    return out


def result_sheets(
    ledger: Ledger, generated: GeneratedLedger, folder: Path, *, sample: int = 6
) -> Sheets:
    """Sheets with QR seals for a sample of valid results, and the signed trust list."""
    keys = generated.keys()
    checkpoints = Checkpoints(ledger.log, signer=keys.log, witnesses=[keys.witness.verifier])
    parts = SealParts(ledger.dossiers, ledger.log, checkpoints, ledger.keys)
    seals = {
        o.agency: keys.people[name]
        for name, o in generated.people.items()
        if SEAL_ROLE in o.roles and o.agency in STAFF
    }
    picked = valid_results(
        ledger.dossiers, (case.code for case in generated.cases), seals, sample=sample
    )
    return write_sheets(
        parts,
        picked,
        folder,
        origin=generated.origin,
        log_vkey=keys.log.verifier.vkey,
        now_us=NOW_US,
        agency_names=AGENCY_NAMES,
    )


def verify(  # noqa: PLR0917 (the demo's parts)
    ledger: Ledger, db: str, generated: GeneratedLedger, trust: Path, html: Path, tick: Tick
) -> Report:
    """The offline verifier over the whole database, as an inspector runs it."""
    trust.write_text(generated.trust_lines())
    report = verify_ledger(
        DatabaseSource(db),
        parse_trust(trust.read_text()),
        catalogue=ledger.catalogue,
        calendar=ledger.calendar,
        now_us=NOW_US,
        retention_us=RETENTION_US,
        progress=lambda stage, done, total: tick(done, total or 1),
    )
    html.write_text(render_html(report))
    return report


def tamper(ledger: Ledger, generated: GeneratedLedger) -> str:
    """Flip one bit of a stored dossier event (a copy in memory); the core must refuse it.
    Returns the failed check's message."""
    keys = generated.keys()
    trusted = {s.key_id: s.public_key for s in keys.people.values()}
    records = ledger.backend.recorder.select_notifications(start=1, limit=200)
    index, record = next(
        (i, n.state)
        for i, n in enumerate(records)
        if parse_record(n.state, where="leaf").body.stream != REGISTRY_STREAM
    )
    flipped = bytearray(record)
    flipped[len(flipped) // 3] ^= 0x01
    try:
        verify_signatures(parse_record(bytes(flipped), where=f"leaf {index}"), trusted)
    except HosoError as err:
        return f"one bit flipped in leaf {index} → {err}"
    raise AssertionError("a flipped bit went unnoticed")


def serve_files(
    ledger: Ledger, generated: GeneratedLedger, folder: Path, db: str
) -> tuple[Path, str]:
    """``demo.env`` (the settings ``hoso serve`` needs for this database: trust roots and
    the demo-only vault keys) and a demo-only inspector token, printed once."""
    from api.tokens import TokenStore  # noqa: PLC0415 (only the demo's last step needs the API)

    settings = settings_for(db, generated)
    env = folder / "demo.env"
    lines = {
        "HOSO_DATABASE_URL": db,
        "HOSO_ORIGIN": generated.origin,
        "HOSO_AUTHORITY_KEYS": json.dumps(settings.authority_keys),
        "HOSO_WITNESS_KEYS": json.dumps(settings.witness_keys),
        "HOSO_LOG_VKEY": generated.keys().log.verifier.vkey,
        "HOSO_VAULT_KEY": settings.vault_key.get_secret_value(),
        "HOSO_INDEX_KEY": settings.index_key.get_secret_value(),
    }
    env.write_text(
        "# hoso demo: DEMO-ONLY settings (keys derived from the demo seed; never use them)\n"
        + "".join(f"{k}='{v}'\n" for k, v in lines.items())
    )
    env.chmod(0o600)
    tokens = TokenStore(ledger.backend.sql, clock_us=lambda: NOW_US)
    tokens.create_table()
    inspector = generated.people["inspector"]
    issued = tokens.issue(kind="inspector", actor=inspector.actor, agency=inspector.agency)
    return env, issued.token
