"""Citizen index, access log and erasure views (hand-built signed system events), and the
national-portal sync export."""

from __future__ import annotations

import hashlib
import json

import pytest

from ledger.demo.office import WARD, digest
from ledger.demo.scenarios import SCENARIOS
from projections import queries
from projections.portal import DossierNotFound, portal_sync
from projections.rebuild import rebuild
from projections.runner import Follower, select_views
from tests.projections.ledger_kit import CATALOGUE, HOUR, Kit, table_rows

pytestmark = pytest.mark.integration

ALICE = hashlib.sha256(b"subject alice").digest()
BOB = hashlib.sha256(b"subject bob").digest()
T = 1_772_420_400_000_000  # 2026-03-02 10:00 Hanoi
QUEUED = 0


def access(kit: Kit, entries: list[tuple[bytes, str, int]]) -> int:
    global QUEUED  # noqa: PLW0603 (pending-queue ids increase across batches)
    queue = list(range(QUEUED + 1, QUEUED + 1 + len(entries)))
    QUEUED += len(entries)
    payload = {
        "queue": queue,
        "entries": [
            {
                "reader": "ward:tiepnhan-01",
                "agency": WARD,
                "role": "reception",
                "subject": subject,
                "dossier": dossier,
                "purpose": "processing",
                "time": time,
            }
            for subject, dossier, time in entries
        ],
    }
    return kit.system_event("system/access", "DataAccessed", payload, at=T)  # type: ignore[arg-type]


def test_citizen_index_access_log_and_erasure(kit: Kit) -> None:
    follower = Follower(kit.engine, select_views(None))
    for i, code in enumerate(("000.39.05.H26-260105-0001", "000.39.05.H26-260105-0002")):
        kit.submit(code, applicant=ALICE, procedure="1.001193", agency=WARD, at=T + i * HOUR)
    kit.submit("000.39.05.H26-260105-0003", applicant=BOB, procedure="1.001193", agency=WARD, at=T)
    first = access(
        kit,
        [
            (ALICE, "000.39.05.H26-260105-0001", T + 1),
            (BOB, "000.39.05.H26-260105-0003", T + 2),
            (ALICE, "", T + 3),
        ],
    )
    second = access(kit, [(ALICE, "000.39.05.H26-260105-0002", T + 4)])
    follower.catch_up(page=2)
    sql = kit.backend.sql

    mine = queries.citizen_dossiers(sql, ALICE, limit=1)
    assert [r["code"] for r in mine.rows] == ["000.39.05.H26-260105-0002"]
    assert mine.next is not None
    rest = queries.citizen_dossiers(sql, ALICE, after=mine.next, limit=1)
    assert [r["code"] for r in rest.rows] == ["000.39.05.H26-260105-0001"]
    assert rest.next is None
    assert rest.rows[0]["applicant"] == ALICE
    assert not rest.rows[0]["erased"]

    log = queries.access_log(sql, ALICE, limit=2)
    assert [(r["position"], r["entry"], r["dossier"]) for r in log.rows] == [
        (second, 0, "000.39.05.H26-260105-0002"),
        (first, 2, ""),
    ]
    older = queries.access_log(sql, ALICE, after=log.next, limit=2)
    assert [(r["position"], r["entry"]) for r in older.rows] == [(first, 0)]
    assert older.next is None
    assert [r["dossier"] for r in queries.access_log(sql, BOB).rows] == [
        "000.39.05.H26-260105-0003"
    ]

    erasure = {
        "subject": ALICE,
        "basis": "withdrawn_consent",
        "request": BOB,
        "dossiers": ["000.39.05.H26-260105-0001"],
    }
    kit.system_event("system/privacy", "SubjectErased", erasure, at=T + 5)  # type: ignore[arg-type]
    follower.catch_up()
    erased = queries.citizen_dossiers(sql, ALICE).rows
    assert [(r["code"], r["erased"], r["applicant"]) for r in erased] == [
        ("000.39.05.H26-260105-0002", True, None),
        ("000.39.05.H26-260105-0001", True, None),
    ]
    dossier = queries.get_dossier(sql, "000.39.05.H26-260105-0003")
    assert dossier is not None
    assert dossier["applicant"] == BOB
    assert not dossier["erased"]
    assert (queries.erasure(sql, ALICE) or {}).get("dossiers") == "000.39.05.H26-260105-0001"

    followed = [table_rows(kit.backend, t, "1") for t in ("hoso_v_access_log", "hoso_v_erasures")]
    rebuild(kit.engine, ["access", "erasures"])
    again = [table_rows(kit.backend, t, "1") for t in ("hoso_v_access_log", "hoso_v_erasures")]
    assert again == followed


def test_portal_sync_payload_has_the_dvcqg_fields_and_no_personal_data(kit: Kit) -> None:
    supplement = kit.scenario(SCENARIOS[1])  # residence with a supplement request
    paid = kit.scenario(SCENARIOS[8])  # fee paid online, result corrected
    refused = kit.scenario(SCENARIOS[3])
    payload = portal_sync(kit.backend, supplement, catalogue=CATALOGUE)
    state = kit.service.state(supplement)
    assert state is not None
    assert payload["MaHoSo"] == supplement
    assert payload["MaTTHC"] == state.procedure
    assert payload["TrangThaiHoSo"] == state.portal_code
    assert payload["NgayHenTra"] is not None
    assert len(payload["NgayHenTra"]) == 14
    assert len(payload["QuaTrinhXuLy"]) == len(kit.service.history(supplement))
    assert payload["DanhSachHoSoBoSung"][0]["TrangThaiBoSung"] == 1
    assert payload["MaDoiTuong"] == state.applicant.hex()
    assert payload["ChuHoSo"] is None
    assert payload["DinhDanhCHS"] == []
    assert all(c["DuocSoHoa"] == 1 for c in payload["TaiLieuNop"])

    fee = portal_sync(kit.backend, paid, catalogue=CATALOGUE)
    assert fee["DuocThanhToanTrucTuyen"] == 1
    assert fee["DanhSachLePhi"][0]["MaBienLai"]
    statuses = [r["TrangThai"] for r in fee["DanhSachGiayToKetQua"]]
    assert statuses == ["superseded", "valid"]
    no = portal_sync(kit.backend, refused, catalogue=CATALOGUE)
    assert no["TrangThaiHoSo"] == 3
    assert no["NgayTuChoi"] is not None
    text = json.dumps([payload, fee, no], ensure_ascii=False)
    assert digest(f"{supplement} tenant").hex() in text  # only as the commitment
    with pytest.raises(DossierNotFound):
        portal_sync(kit.backend, "NO-SUCH", catalogue=CATALOGUE)


def test_an_unknown_applicant_has_no_dossiers(kit: Kit) -> None:
    Follower(kit.engine, select_views(None)).catch_up()
    page = queries.citizen_dossiers(kit.backend.sql, ALICE)
    assert (page.rows, page.next) == ([], None)
