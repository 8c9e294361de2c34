"""Synthetic citizens for the demo and tests: Vietnamese-looking, obviously not real.

Deterministic from a label, so a run can be repeated and a test can know every
personal value it created (and then look for them in the stored bytes).
Addresses are on "phố Thử Nghiệm" (Test Street) in "phường Mẫu" (Sample
ward), and id numbers use the Hanoi province code with a fixed "99" block.
"""

from __future__ import annotations

import hashlib

from ledger.privacy.records import PersonalRecord

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô")
MIDDLE = ("Văn", "Thị", "Minh", "Thu", "Đức", "Ngọc", "Quang", "Thanh")
GIVEN = ("An", "Bình", "Chi", "Dũng", "Hà", "Hải", "Hạnh", "Khoa", "Lan", "Mai", "Nam", "Thảo")


def synthetic_person(label: str) -> PersonalRecord:
    """The synthetic citizen named by ``label`` (same label, same person)."""
    h = hashlib.sha256(f"hoso synthetic person\0{label}".encode()).digest()
    year = 1950 + h[0] % 55
    gender = h[1] % 2  # 0 male, 1 female; born in the 1900s → digit 0/1, 2000s → 2/3
    century = 0 if year < 2000 else 2
    serial = int.from_bytes(h[2:6], "big") % 10_000
    id_number = f"001{century + gender}{year % 100:02d}99{serial:04d}"
    return PersonalRecord.of(
        id_number=id_number,
        full_name=f"{FAMILY[h[6] % len(FAMILY)]} {MIDDLE[h[7] % len(MIDDLE)]} "
        f"{GIVEN[h[8] % len(GIVEN)]}",
        birth_date=f"{year}-{1 + h[9] % 12:02d}-{1 + h[10] % 28:02d}",
        address=f"Số {1 + h[11] % 200} phố Thử Nghiệm, phường Mẫu, Hà Nội",
        phone=f"09{int.from_bytes(h[12:16], 'big') % 10**8:08d}",
    )
