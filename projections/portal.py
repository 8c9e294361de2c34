"""The national public-service portal (DVCQG) sync payload of one dossier (DOMAIN.md 2.2).

Field names are the portal's; timestamps ``yyyyMMddHHmmss`` in Vietnam time.
Built from the dossier's stream in the log (folded with the domain's own
``start``/``evolve``, event by event, for the process history) and the
catalogue. **No personal data**: the ledger holds none in the clear, so
``ChuHoSo``, ``SoGiayToChuHoSo`` and ``DinhDanhCHS`` are left empty for the
caller to fill from the personal-data store under its own access rules;
``MaDoiTuong`` carries the applicant's salted commitment (hex), which reveals
nothing. File paths (``DuongDan...``) are not the ledger's: it gives the
documents' hashes instead.

Codes marked [M] in DOMAIN.md are unverified: ``KenhThucHien`` (1 counter,
2 online, 3 post) and ``HinhThuc`` (1 online, 0 otherwise).
"""

from __future__ import annotations

from typing import Any

from ledger.core.errors import NotFoundError
from ledger.core.event import parse_record
from ledger.domain import lifecycle as ev
from ledger.domain.calendar import vn_datetime
from ledger.domain.procedures import Catalogue
from ledger.storage.database import Backend
from ledger.storage.sql import EVENTS_TABLE
from projections.engine import load_keys
from projections.fold import Folded, step

CHANNEL_CODES = {"counter": 1, "online": 2, "post": 3}  # [M]

STEP_TEXT_VI = {
    ev.SUBMITTED: "Nộp hồ sơ",
    ev.GUIDANCE: "Hướng dẫn bổ sung, hoàn thiện hồ sơ (Mẫu 02)",
    ev.REFUSED: "Từ chối tiếp nhận hồ sơ (Mẫu 03)",
    ev.INPUT: "Số hóa thành phần hồ sơ",
    ev.RECEIVED: "Tiếp nhận hồ sơ, hẹn trả kết quả (Mẫu 01)",
    ev.ASSIGNED: "Chuyển hồ sơ cho cán bộ xử lý",
    ev.STEP: "Xử lý, thẩm định hồ sơ",
    ev.TRANSFERRED: "Chuyển hồ sơ liên thông",
    ev.ACKNOWLEDGED: "Tiếp nhận hồ sơ liên thông",
    ev.RETURNED: "Trả hồ sơ liên thông",
    ev.SUPPLEMENT_REQUESTED: "Yêu cầu bổ sung, hoàn thiện hồ sơ (Mẫu 02)",
    ev.SUPPLEMENT_RECEIVED: "Tiếp nhận hồ sơ bổ sung",
    ev.FEE_REQUESTED: "Thông báo nộp phí, lệ phí",
    ev.FEE_PAID: "Đã nộp phí, lệ phí",
    ev.APOLOGY: "Văn bản xin lỗi và đề nghị gia hạn (Mẫu 04)",
    ev.APOLOGY_ACCEPTED: "Người nộp đồng ý gia hạn",
    ev.APOLOGY_REFUSED: "Người nộp không đồng ý gia hạn",
    ev.APOLOGY_WITHDRAWN: "Thu hồi văn bản xin lỗi",
    ev.STOPPED: "Dừng giải quyết hồ sơ (Mẫu 05)",
    ev.WITHDRAWAL_REQUESTED: "Đề nghị rút hồ sơ",
    ev.WITHDRAWAL_ACCEPTED: "Chấp nhận rút hồ sơ",
    ev.RESULT_ISSUED: "Ký ban hành kết quả",
    ev.RESULT_DIGITIZED: "Số hóa kết quả",
    ev.DELIVERED: "Trả kết quả",
    ev.PAPER_COPY: "Cấp bản giấy kết quả",
    ev.REVOKED: "Thu hồi kết quả",
    ev.CORRECTED: "Đính chính kết quả",
    ev.AUDIT_OPENED: "Mở hậu kiểm",
    ev.FINDING: "Ghi nhận kết luận hậu kiểm",
    ev.AUDIT_CONCLUDED: "Kết thúc hậu kiểm",
}
"""``NoiDungXuLy``: each step's text in Vietnamese (the portal shows it to citizens)."""
NATIONAL_SOURCES = frozenset({"master_register", "national_database"})


class DossierNotFound(NotFoundError):
    """The log has no dossier with this code."""

    check = "portal.dossier_unknown"


def portal_time(t_us: int | None) -> str | None:
    return None if t_us is None else vn_datetime(t_us).strftime("%Y%m%d%H%M%S")


def portal_sync(backend: Backend, code: str, *, catalogue: Catalogue) -> dict[str, Any]:
    """The DVCQG sync payload of dossier ``code`` as the log stands now."""
    rows = backend.sql.rows(
        f"SELECT state FROM {EVENTS_TABLE} WHERE originator_id = %s ORDER BY originator_version",
        [code],
    )
    keys = load_keys(backend)
    folded: Folded | None = None
    history: list[dict[str, Any]] = []
    supplements: list[dict[str, Any]] = []
    fees: list[dict[str, Any]] = []
    paid = False
    for row in rows:
        event = parse_record(bytes(row["state"]))
        signers = keys(event)
        before = folded
        folded = step(folded, event, signers, catalogue, position=event.body.n)
        if folded is None or (before is not None and folded.rejections != before.rejections):
            continue  # not a dossier, or an event the lifecycle refused
        body, s = event.body, folded.state
        actor = next((k.signer for k in signers if k.signer.actor == body.actor), None)
        history.append(
            {
                "NguoiXuLy": body.actor,
                "ChucDanh": ",".join(sorted(actor.roles)) if actor else "",
                "ThoiDiemXuLy": portal_time(body.time_us),
                "PhongBanXuLy": actor.agency if actor else "",
                "NoiDungXuLy": STEP_TEXT_VI.get(body.type, body.type),
                "TrangThai": s.portal_code,
                "NgayBatDau": portal_time(body.time_us),
                "NgayKetThucTheoQuyDinh": portal_time(_step_due(body, s.due_us)),
            }
        )
        p = body.payload
        if body.type == ev.SUPPLEMENT_REQUESTED:
            supplements.append(
                {
                    "NgayHenTraTruoc": portal_time(before.state.due_us if before else None),
                    "NgayHenTraMoi": None,
                    "NoiDungBoSung": _joined(p["reasons"]),
                    "NguoiYeuCauBoSung": body.actor,
                    "TrangThaiBoSung": 0,
                }
            )
        elif body.type == ev.SUPPLEMENT_RECEIVED and supplements:
            supplements[-1].update({"NgayHenTraMoi": portal_time(s.due_us), "TrangThaiBoSung": 1})
        elif body.type == ev.FEE_REQUESTED:
            fees.append({"MucPhi": p["amount_vnd"], "MaBienLai": None, "NgayNop": None})
        elif body.type == ev.FEE_PAID:
            paid = paid or p.get("method") == "online"  # paid online, not at the counter
            if fees:
                fees[-1].update(
                    {"MaBienLai": p["receipt_ref"], "NgayNop": portal_time(body.time_us)}
                )
    if folded is None:
        raise DossierNotFound("no dossier with this code in the log", where=code, found=code)
    s = folded.state
    procedure = catalogue.get(s.procedure) if s.procedure in catalogue else None
    components = [
        {
            "MaThanhPhanHoSo": name,
            "DuongDanTaiTepTin": None,
            "MaBamTaiLieu": c.document_hash.hex(),
            "DuocSoHoa": int(c.source == "scanned"),
            "DuocTaiSuDung": int(c.source == "reused_result"),
            "DuocLayTuKhoDMQG": int(c.source in NATIONAL_SOURCES),
            "MaKetQuaThayThe": c.source_ref if c.source == "reused_result" else None,
        }
        for name, c in sorted(s.components.items())
    ]
    return {
        "MaHoSo": s.code,
        "MaTTHC": s.procedure,
        "TenTTHC": procedure.name_vi if procedure else None,
        "MaLinhVuc": procedure.sector_code if procedure else None,
        "KenhThucHien": CHANNEL_CODES.get(s.channel),
        "ChuHoSo": None,
        "SoGiayToChuHoSo": None,
        "LoaiDoiTuong": s.applicant_kind,
        "MaDoiTuong": s.applicant.hex(),
        "TrichYeuHoSo": procedure.name_vi if procedure else s.procedure,
        "NgayNopHoSo": portal_time(s.submitted_us),
        "NgayTiepNhan": portal_time(s.received_us),
        "NgayHenTra": portal_time(s.due_us),
        "NgayTra": portal_time(s.finished_us if s.state is ev.State.DELIVERED else None),
        "NgayKetThucXuLy": portal_time(s.resolved_us or s.finished_us),
        "NgayTuChoi": portal_time(
            s.finished_us if s.state is ev.State.REFUSED_AT_RECEPTION else None
        ),
        "TrangThaiHoSo": s.portal_code,
        "HinhThuc": int(s.channel == "online"),
        "DonViXuLy": s.current_agency,
        "NoiNopHoSo": s.agency,
        "HoSoCoThanhPhanSoHoa": int(any(c["DuocSoHoa"] for c in components)),
        "TaiKhoanDuocXacThucVoiVNeID": None if s.vneid is None else int(s.vneid),
        "DuocThanhToanTrucTuyen": int(paid),
        "DinhDanhCHS": [],
        "DSKetNoiCSDL": sorted(
            {c.source_ref for c in s.components.values() if c.source in NATIONAL_SOURCES}
        ),
        "TaiLieuNop": components,
        "DanhSachLePhi": fees,
        "DanhSachHoSoBoSung": supplements,
        "DanhSachGiayToKetQua": [
            {
                "TenGiayTo": r.result_type,
                "MaThanhPhanHoSo": None,
                "GiayToId": r.number,
                "DuongDanTepTinKetQua": None,
                "MaGiayToKetQua": r.document_hash.hex(),
                "TrangThai": r.status,
            }
            for r in sorted(s.results.values(), key=lambda r: r.n)
        ],
        "QuaTrinhXuLy": history,
    }


def _step_due(body: Any, due_us: int | None) -> int | None:
    """A step's own due date: an inter-agency step's allowance in (clock) hours from when it
    was sent [M: the portal's field; the working-hours allowance is judged by the rules];
    every other step is due by the dossier's due date in force."""
    if body.type == ev.TRANSFERRED:
        hours = body.payload.get("allowance_hours")
        if isinstance(hours, int):
            return None if due_us is None else min(due_us, body.time_us + hours * 3_600_000_000)
    return due_us


def portal_batch(backend: Backend, codes: list[str], *, catalogue: Catalogue) -> dict[str, Any]:
    """The batched envelope the portal's sync takes: ``{"data": [dossier, ...]}`` [M: the
    envelope's field name as the provincial LGSP adapters send it]; codes in order."""
    return {"data": [portal_sync(backend, code, catalogue=catalogue) for code in codes]}


def _joined(value: object) -> str:
    return "; ".join(str(i) for i in value) if isinstance(value, list) else str(value)
