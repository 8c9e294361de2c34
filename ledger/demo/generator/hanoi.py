"""The generated Hanoi: agencies, who signs for them, and which procedures they handle.

Agency codes are fictional but in the real shape of the national TTHC agency
codes (``000.xx.yy.H26``, H26 = Hà Nội); the ward and district names are
obviously synthetic ("phường Mẫu", "quận Thử Nghiệm"). Procedure codes and
legal times come from the shipped catalogue (``ledger/domain/data/procedures.json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ledger.demo.office import JUSTICE, POLICE, WARD, Official

CENTER: Final = "000.00.60.H26"  # Trung tâm Phục vụ hành chính công thành phố (fictional)
WARD_B: Final = "000.39.06.H26"  # a second ward People's Committee (fictional)
WARD_C: Final = "000.39.07.H26"  # a third (fictional)
DISTRICT: Final = "000.25.11.H26"  # Công an quận Thử Nghiệm, residence desk (fictional)
INSPECTORATE: Final = "H26.THANHTRA"
WITNESS_NAME: Final = "witness.generated.hoso.example/so-tttt"


@dataclass(frozen=True, slots=True)
class Agency:
    code: str
    staff: str  # keystore-name prefix of its officials
    name_vi: str
    name_en: str
    procedures: tuple[tuple[str, int], ...]  # (procedure code, weight of its arrivals)


AGENCIES: Final = (
    Agency(
        CENTER,
        "center",
        "Trung tâm Phục vụ hành chính công thành phố Hà Nội",
        "Hanoi Public Administration Service Center",
        (("X.ENT001", 3), ("X.CON001", 1)),
    ),
    Agency(
        WARD,
        "ward",
        "UBND phường Mẫu",
        "People's Committee of Mẫu ward",
        (("1.001193", 6), ("1.000894", 2), ("2.000635", 3), ("2.000815", 5), ("1.014027", 1)),
    ),
    Agency(
        WARD_B,
        "ward-b",
        "UBND phường Mẫu Hai",
        "People's Committee of Mẫu Hai ward",
        (("1.001193", 5), ("1.000894", 2), ("2.000635", 2), ("2.000815", 4), ("X.CON002", 1)),
    ),
    Agency(
        WARD_C,
        "ward-c",
        "UBND phường Mẫu Ba",
        "People's Committee of Mẫu Ba ward",
        (("1.001193", 4), ("2.000635", 2), ("2.000815", 4), ("1.014027", 1)),
    ),
    Agency(
        DISTRICT,
        "district",
        "Công an quận Thử Nghiệm",
        "Thử Nghiệm district police",
        (("1.004194", 5), ("1.004222", 3)),
    ),
    Agency(
        POLICE,
        "police",
        "Công an thành phố Hà Nội",
        "Hanoi city police",
        (("3.000333", 4), ("1.001456", 4), ("2.000200", 3)),
    ),
    Agency(
        JUSTICE,
        "justice",
        "Sở Tư pháp Hà Nội",
        "Hanoi Department of Justice",
        (),  # it takes the police's transferred criminal-record verifications
    ),
)
BY_CODE: Final = {a.code: a for a in AGENCIES}
STAFF: Final = {a.code: a.staff for a in AGENCIES}
AGENCY_NAMES: Final = {a.code: a.name_vi for a in AGENCIES}
FEE_PAYERS: Final = frozenset({"2.000635"})  # procedures with a fee in the catalogue


def hanoi_cast() -> dict[str, Official]:
    """Everyone who signs in a generated ledger, by keystore-style name.

    Per agency: reception (the one-stop desk), two handlers, a leader (the
    competent signer), the agency seal, and a payments system for the wards;
    then the national portal, two inspectors and the access-log system.
    """
    people: dict[str, Official] = {
        "portal": Official("portal:dichvucong", frozenset({"portal"}), "NATIONAL"),
        "inspector": Official("inspector:thanhtra-01", frozenset({"inspector"}), INSPECTORATE),
        "inspector.2": Official("inspector:thanhtra-02", frozenset({"inspector"}), INSPECTORATE),
        "access": Official("system:nhatky-truycap", frozenset({"system"}), "H26.PVHCC"),
    }
    for agency in AGENCIES:
        s, code = agency.staff, agency.code
        people[f"{s}.reception"] = Official(f"{s}:tiepnhan-01", frozenset({"reception"}), code)
        people[f"{s}.handler"] = Official(f"{s}:chuyenvien-01", frozenset({"handler"}), code)
        people[f"{s}.handler.2"] = Official(f"{s}:chuyenvien-02", frozenset({"handler"}), code)
        people[f"{s}.leader"] = Official(f"{s}:lanhdao-01", frozenset({"leader"}), code)
        people[f"{s}.seal"] = Official(f"agency:{code}", frozenset({"agency_seal"}), code)
        if s.startswith("ward"):
            people[f"{s}.payments"] = Official(f"system:thanhtoan-{s}", frozenset({"system"}), code)
    return people
