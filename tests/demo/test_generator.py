"""The realistic generator: deterministic, realistic, and its planted violations found exactly."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest

from ledger.demo.generate import generate_ledger
from ledger.demo.generator.plan import TET
from ledger.domain.calendar import local_date
from ledger.domain.calendar_data import load_calendar
from ledger.domain.procedures_data import load_catalogue
from ledger.services.dossiers import DossierPolicy, DossierService
from ledger.services.verify_source import DatabaseSource
from ledger.storage.database import open_backend
from ledger.storage.store import EventStore
from verify.run import verify_ledger
from verify.trust import parse_trust

pytestmark = pytest.mark.integration


def stored_digest(url: str) -> str:
    backend = open_backend(url)
    try:
        rows = backend.recorder.select_notifications(start=1, limit=10**9)
        return hashlib.sha256(b"".join(n.state for n in rows)).hexdigest()
    finally:
        backend.close()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    urls = [f"sqlite:///{tmp_path / f'{i}.sqlite'}" for i in range(3)]
    a = generate_ledger(urls[0], dossiers=40, seed=5)
    b = generate_ledger(urls[1], dossiers=40, seed=5)
    c = generate_ledger(urls[2], dossiers=40, seed=6)
    assert a.codes == b.codes
    assert a.events == b.events > 40 * 5
    assert stored_digest(urls[0]) == stored_digest(urls[1])
    assert stored_digest(urls[0]) != stored_digest(urls[2])
    assert a.codes != c.codes


def test_a_realistic_mix_across_tet_with_exactly_the_planted_findings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    g = generate_ledger(url, dossiers=300, seed=2, privacy=True)
    lives = Counter(g.lifecycles)
    for kind in ("transfer", "supplement", "apology", "revoked_after_audit", "refused"):
        assert lives[kind] > 0, kind
    assert sum(v for k, v in lives.items() if k.startswith("planted_")) == 6
    assert len({c.agency for c in g.cases}) == 6  # the Department of Justice only takes transfers
    assert g.subjects == 300
    assert g.reads > 300
    assert len(g.erased) == 2
    backend = open_backend(url)
    try:
        catalogue, calendar = load_catalogue(), load_calendar()
        store = EventStore(
            backend, origin=g.origin, authorities={}, policy=DossierPolicy(catalogue)
        )
        service = DossierService(
            store,
            catalogue=catalogue,
            calendar=calendar,
            signer_for=lambda n: None,  # type: ignore[arg-type,return-value]
            clock_us=lambda: 0,
        )
        states = [service.state(code) for code in g.codes]
        days = [local_date(c.arrival_us) for c in g.cases]
        assert min(days) < TET[0] < TET[1] < max(days)  # the window spans Tết
        over = [
            s
            for s in states
            if s is not None
            and s.received_us is not None
            and s.legal_due_us is not None
            and local_date(s.received_us) < TET[0]
            and local_date(s.legal_due_us) > TET[1]
        ]
        assert over, "no due date pushed over Tết"
        findings = service.audit(g.codes, now_us=1_800_000_000_000_000)
        assert Counter(f.rule for f in findings) == Counter(
            {r: n for r, n in g.planted.items() if r.startswith("rule.")}
        )
        planted_codes = {c.code for c in g.cases if c.lifecycle.startswith("planted_")}
        assert {f.stream for f in findings} == planted_codes
    finally:
        backend.close()


def test_the_verifier_and_the_projections_give_identical_verdicts(tmp_path: Path) -> None:
    """Every rule is a pure function of the dossier's events, the procedure version and the
    calendar version (plus the reuse index both build from the same ledger): the offline
    verifier and the dossier service behind the projections find, for every dossier of a
    generated ledger, the same findings citing the same law."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    g = generate_ledger(url, dossiers=120, seed=3)
    now = 1_800_000_000_000_000
    catalogue, calendar = load_catalogue(), load_calendar()
    backend = open_backend(url)
    try:
        store = EventStore(
            backend, origin=g.origin, authorities={}, policy=DossierPolicy(catalogue)
        )
        service = DossierService(
            store,
            catalogue=catalogue,
            calendar=calendar,
            signer_for=lambda n: None,  # type: ignore[arg-type,return-value]
            clock_us=lambda: 0,
        )
        served = service.audit(g.codes, now_us=now)
    finally:
        backend.close()
    report = verify_ledger(
        DatabaseSource(url),
        parse_trust(g.trust_lines()),
        catalogue=catalogue,
        calendar=calendar,
        now_us=now,
        cap=10**6,
    )
    assert report.findings.total("integrity") == 0
    verified = [f for f in report.findings.kept if f.family == "rule"]

    def key(stream: str | None, rule: str, n: int | None, law: str, basis: str) -> tuple[str, ...]:
        return (stream or "", rule, str(n), law, basis)

    by_service = Counter(key(f.stream, f.rule, f.n, f.law, f.basis) for f in served)
    by_verifier = Counter(key(f.stream, f.check, f.n, f.law, f.basis) for f in verified)
    assert by_service  # the generator plants violations: there is something to agree on
    assert by_service == by_verifier
    assert all(f.law in {"nd61-2018", "nd118-2025"} and f.basis for f in served)
    for code in g.codes:  # dossier by dossier, including those with no finding
        assert {k for k in by_service if k[0] == code} == {k for k in by_verifier if k[0] == code}
