"""The inspector's audit report (``hoso audit --report``): findings an inspector can sign,
and the Decision 766 indicators, as JSON (stable ids) and HTML, Vietnamese by default.

Every finding shows the rule, the legal basis and the version that applied on the dossier's
reception date, the events that prove it (stream position and event hash; for a finding on
the dossier as a whole, its latest event, which commits to the whole chain), and what the
agency can do. Agencies and procedures are named by name as well as code (procedures from
the catalogue; agencies from the names given, e.g. ``--agencies names.json``, which is then
also the agency catalogue that transfers are judged against). Nothing
personal: applicants are never read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any, Final, Literal

from ledger.domain import lifecycle as ev
from ledger.domain.indicators import NOT_COMPUTED, SPECS, Indicators
from ledger.domain.law import shipped_law
from ledger.domain.state import format_time
from ledger.services.dossiers import DossierService

Lang = Literal["vi", "en"]
LANGS: Final = ("vi", "en")

RULE_TITLES: Final[dict[str, tuple[str, str]]] = {
    "rule.illegal_event": ("Sự kiện trái quy trình", "Event the lifecycle refuses"),
    "rule.late_without_apology": ("Trễ hạn, không có văn bản xin lỗi", "Late without apology"),
    "rule.apology_misuse": ("Xin lỗi, gia hạn không đúng quy định", "Apology misused"),
    "rule.supplement_repeated": ("Yêu cầu bổ sung hồ sơ quá một lần", "Supplement asked twice"),
    "rule.supplement_after_due": ("Yêu cầu bổ sung sau hạn", "Supplement asked after the due date"),
    "rule.guidance_repeated": ("Hướng dẫn bổ sung (Mẫu 02) quá một lần", "Form 02 given twice"),
    "rule.due_date_mismatch": ("Ngày hẹn trả tính sai", "Due date miscounted"),
    "rule.law_version_mismatch": ("Áp dụng sai văn bản pháp luật", "Wrong legal version applied"),
    "rule.reception_time_implausible": (
        "Thời điểm tiếp nhận bất hợp lý",
        "Implausible reception time",
    ),
    "rule.handover_late": ("Chuyển xử lý chậm", "Hand-over late"),
    "rule.transfer_unknown_agency": (
        "Chuyển liên thông đến cơ quan không có trong danh mục",
        "Transfer to an agency not in the catalogue",
    ),
    "rule.interagency_step_late": ("Bước liên thông quá hạn", "Inter-agency step late"),
    "rule.inputs_not_digitized": ("Hồ sơ đầu vào chưa số hóa", "Inputs not digitised"),
    "rule.paper_despite_electronic": (
        "Yêu cầu giấy tờ đã có bản điện tử",
        "Paper asked though electronic exists",
    ),
    "rule.paper_copy_without_basis": ("Cấp bản giấy không có căn cứ", "Paper copy without basis"),
    "rule.paper_result_without_basis": (
        "Trả kết quả giấy không có căn cứ",
        "Paper result without basis",
    ),
    "rule.result_not_properly_signed": ("Kết quả ký số không đủ", "Result not properly signed"),
    "rule.paper_result_not_digitized": ("Kết quả giấy chưa số hóa", "Paper result not digitised"),
    "rule.fee_collected_twice": ("Thu phí hai lần", "Fee collected twice"),
    "rule.fee_on_exempt_procedure": ("Thu phí thủ tục được miễn", "Fee on a fee-exempt procedure"),
    "rule.revocation_overdue": ("Chậm thu hồi kết quả", "Revocation overdue"),
    "rule.self_declared_unaudited": (
        "Thông tin tự kê khai chưa hậu kiểm",
        "Self-declared inputs unaudited",
    ),
    "rule.segregation_of_duties": ("Một người tiếp nhận, xử lý và ký", "Segregation of duties"),
}

REMEDIES: Final[dict[str, tuple[str, str]]] = {
    "rule.late_without_apology": (
        "Ban hành văn bản xin lỗi (Mẫu 04) nêu lý do; giải trình việc trễ hạn; trả kết quả ngay.",
        "Issue the apology letter (Form 04) with its reason, explain the delay, deliver now.",
    ),
    "rule.apology_misuse": (
        "Giải trình; chỉ một lần gia hạn, trước hạn; trả kết quả trước ngày hẹn mới.",
        "Explain; one extension only, before the due date; deliver by the new date.",
    ),
    "rule.supplement_repeated": (
        "Giải trình; hướng dẫn bổ sung một lần, đầy đủ.",
        "Explain; guide the supplement once, in full.",
    ),
    "rule.guidance_repeated": (
        "Giải trình; hướng dẫn bổ sung một lần, đầy đủ (Mẫu 02).",
        "Explain; guide the supplement once, in full (Form 02).",
    ),
    "rule.supplement_after_due": (
        "Giải trình; xin lỗi người nộp về thời gian đã quá hạn.",
        "Explain; apologise for the time past the due date.",
    ),
    "rule.due_date_mismatch": (
        "Tính lại ngày hẹn trả theo quy định, thông báo người nộp.",
        "Recompute the due date by the rule and inform the applicant.",
    ),
    "rule.law_version_mismatch": (
        "Tính lại theo văn bản có hiệu lực vào ngày tiếp nhận.",
        "Recount under the version in force on the reception date.",
    ),
    "rule.reception_time_implausible": (
        "Kiểm tra đồng hồ hệ thống và thời điểm tiếp nhận điện tử.",
        "Check the system clock and the electronic reception time.",
    ),
    "rule.paper_despite_electronic": (
        "Khai thác dữ liệu điện tử đã có (CSDL quốc gia, kết quả đã cấp); không yêu cầu giấy.",
        "Use the electronic data held (national databases, results issued); ask no paper.",
    ),
    "rule.inputs_not_digitized": (
        "Số hóa và ký số thành phần hồ sơ còn thiếu.",
        "Digitise and sign the missing components.",
    ),
    "rule.paper_result_without_basis": (
        "Cấp kết quả điện tử; bản giấy chỉ khi người dân yêu cầu.",
        "Issue the result electronically; paper only on request.",
    ),
    "rule.paper_result_not_digitized": (
        "Số hóa kết quả giấy và ký số của cơ quan.",
        "Digitise the paper result with the agency's signature.",
    ),
    "rule.result_not_properly_signed": (
        "Ký lại kết quả bằng chữ ký số của người có thẩm quyền và của cơ quan.",
        "Re-sign with the competent signer's and the agency's signatures.",
    ),
    "rule.revocation_overdue": (
        "Ban hành quyết định thu hồi kết quả.",
        "Issue the revocation decision.",
    ),
    "rule.fee_collected_twice": ("Hoàn trả khoản thu trùng.", "Refund the duplicate payment."),
    "rule.fee_on_exempt_procedure": ("Hoàn trả khoản phí đã thu.", "Refund the fee collected."),
}

LABELS: Final[dict[str, tuple[str, str]]] = {
    "title": ("Báo cáo hậu kiểm", "Post-audit report"),
    "findings": ("Phát hiện", "Findings"),
    "indicators": ("Chỉ số theo Quyết định 766/QĐ-TTg", "Decision 766/QĐ-TTg indicators"),
    "not_computed": ("Chỉ số sổ cái không tính được", "Indicators the ledger can't compute"),
    "rule": ("Quy tắc", "Rule"),
    "dossier": ("Hồ sơ", "Dossier"),
    "procedure": ("Thủ tục", "Procedure"),
    "agency": ("Cơ quan", "Agency"),
    "basis": ("Căn cứ pháp lý", "Legal basis"),
    "law": ("Văn bản áp dụng", "Legal version"),
    "proof": ("Sự kiện chứng minh (vị trí, mã băm)", "Proving events (position, hash)"),
    "expected": ("Yêu cầu", "Expected"),
    "found": ("Thực tế", "Found"),
    "remedy": ("Cơ quan có thể làm gì", "What the agency can do"),
    "period": ("Kỳ", "Period"),
    "rate": ("Tỷ lệ", "Rate"),
    "counted": ("Đạt / tổng", "Counted / total"),
    "none": ("Không có phát hiện.", "No findings."),
    "versions": ("Phiên bản", "Versions"),
    "why": ("Lý do", "Why"),
}


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == "vi" else pair[1]


def audit_report(
    service: DossierService,
    *,
    now_us: int,
    codes: Sequence[str] | None = None,
    agency_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The report as JSON-ready data (stable ids; both languages' texts are given)."""
    names = dict(agency_names or {})
    chosen = list(codes) if codes is not None else service.codes()
    catalogue = service.catalogue
    law = shipped_law()
    findings = service.audit(chosen, now_us=now_us, agencies=frozenset(names) if names else None)
    indicators = Indicators()
    proofs: dict[str, list[tuple[int, str, str]]] = {}
    procedures: dict[str, str] = {}
    for code in chosen:
        events = service.store.read_stream(code)
        proofs[code] = [(e.body.n, e.event_hash.hex(), e.body.type) for e in events]
        state = service.state(code)
        if state is None:
            continue
        procedures[code] = state.procedure
        paid = [e.body for e in events if e.body.type == ev.FEE_PAID]
        fee = None
        if paid:
            method = paid[-1].payload.get("method")
            fee = (paid[-1].time_us, method if isinstance(method, str) else None)
        indicators.add(state, fee_paid=fee, required=catalogue.required_components(state.procedure))

    def procedure_name(code: str) -> dict[str, str | None]:
        found = catalogue.procedures.get(code)
        return {
            "code": code,
            "name_vi": found.name_vi if found else None,
            "name_en": found.name_en if found else None,
        }

    out_findings = []
    for f in findings:
        chain = proofs.get(f.stream, [])
        proving = [p for p in chain if p[0] == f.n] if f.n is not None else chain[-1:]
        title = RULE_TITLES.get(f.rule, (f.rule, f.rule))
        remedy = REMEDIES.get(f.rule)
        out_findings.append(
            {
                "rule": f.rule,
                "title_vi": title[0],
                "title_en": title[1],
                "dossier": f.stream,
                "procedure": procedure_name(procedures.get(f.stream, "")),
                "agency": {"code": f.agency, "name": names.get(f.agency)},
                "law": f.law,
                "law_title": law.get(f.law).title if f.law else None,
                "basis": f.basis,
                "message": f.message,
                "expected": f.expected,
                "found": f.found,
                "events": [{"n": n, "hash": h, "type": t} for n, h, t in proving],
                "remedy_vi": remedy[0] if remedy else None,
                "remedy_en": remedy[1] if remedy else None,
            }
        )
    specs = {s.id: s for s in SPECS}
    rows = []
    for row in indicators.rows():
        spec = specs[str(row["indicator"])]
        agency = str(row["agency"])
        rows.append(
            {
                **row,
                "name_vi": spec.name_vi,
                "name_en": spec.name_en,
                "counts": spec.counts,
                "agency_name": names.get(agency),
            }
        )
    return {
        "format": "hoso.audit/1",
        "now": format_time(now_us),
        "calendar_version": service.calendar.version,
        "catalogue_version": catalogue.version,
        "law_version": law.version,
        "legal_versions": [
            {
                "id": v.id,
                "title": v.title,
                "in_force_from": v.in_force_from.isoformat(),
                "in_force_to": None if v.in_force_to is None else v.in_force_to.isoformat(),
            }
            for v in law.versions
        ],
        "dossiers": len(chosen),
        "findings": out_findings,
        "indicators": rows,
        "not_computed": [
            {"group": g, "name_vi": vi, "name_en": en, "why": why}
            for g, vi, en, why in NOT_COMPUTED
        ],
    }


def audit_html(report: Mapping[str, Any], *, lang: Lang = "vi") -> str:
    """The report as one self-contained HTML page in ``lang`` (Vietnamese by default)."""

    def t(key: str) -> str:
        return escape(_pick(LABELS[key], lang))

    parts = [
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{t('title')}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:4px 6px;vertical-align:top;font-size:90%}"
        "code{font-size:85%}</style></head><body>",
        f"<h1>{t('title')}</h1>",
        f"<p>{t('versions')}: calendar <code>{escape(report['calendar_version'])}</code>, "
        f"catalogue <code>{escape(report['catalogue_version'])}</code>, law "
        f"<code>{escape(report['law_version'])}</code> · {escape(report['now'])}</p>",
        f"<h2>{t('findings')} ({len(report['findings'])})</h2>",
    ]
    if not report["findings"]:
        parts.append(f"<p>{t('none')}</p>")
    else:
        heads = ("rule", "dossier", "procedure", "agency", "law", "basis", "expected", "found")
        parts.append(
            "<table><tr>"
            + "".join(f"<th>{t(k)}</th>" for k in (*heads, "proof", "remedy"))
            + "</tr>"
        )
        for f in report["findings"]:
            proc = f["procedure"]
            proc_name = proc["name_vi"] if lang == "vi" else proc["name_en"]
            agency = f["agency"]
            cells = [
                f"<b>{escape(f['title_' + lang])}</b><br><code>{escape(f['rule'])}</code>",
                f"<code>{escape(f['dossier'])}</code>",
                f"{escape(proc_name or '')} <code>{escape(proc['code'])}</code>",
                f"{escape(agency['name'] or '')} <code>{escape(agency['code'])}</code>",
                f"<code>{escape(f['law'])}</code><br>{escape(f['law_title'] or '')}",
                escape(f["basis"]),
                escape(f["expected"]),
                escape(f["found"]),
                "<br>".join(
                    f"n={e['n']} <code>{escape(e['hash'])}</code> {escape(e['type'])}"
                    for e in f["events"]
                ),
                escape(f["remedy_" + lang] or ""),
            ]
            parts.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        parts.append("</table>")
    parts.append(f"<h2>{t('indicators')}</h2><table><tr>")
    parts.append(
        "".join(f"<th>{t(k)}</th>" for k in ("agency", "period", "indicators", "counted", "rate"))
        + "</tr>"
    )
    for row in report["indicators"]:
        rate = "—" if row["rate"] is None else f"{100 * row['rate']:.1f}%"
        cells = [
            f"{escape(row['agency_name'] or '')} <code>{escape(row['agency'])}</code>",
            escape(row["period"]),
            escape(row["name_" + lang]),
            f"{row['numerator']} / {row['denominator']}",
            rate,
        ]
        parts.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    parts.append(f"</table><h2>{t('not_computed')}</h2><ul>")
    for item in report["not_computed"]:
        parts.append(f"<li><b>{escape(item['name_' + lang])}</b>: {escape(item['why'])}</li>")
    parts.append("</ul></body></html>")
    return "\n".join(parts)
