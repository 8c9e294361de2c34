"""Free text with what looks like personal data is refused, naming the field and the kind
of data, never the value; ordinary reasons pass."""

from __future__ import annotations

import pytest

from ledger.privacy.free_text import PATTERNS, PersonalDataInFreeText, refuse_personal_data


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("CCCD 001203004567 không khớp", "a 12-digit citizen id number"),
        ("CMND số 012345678", "a 9-digit identity card number"),
        ("gọi lại 0912 345 678", "a phone number"),
        ("liên hệ +84 912.345.678", "a phone number"),
        ("gửi tới nguyen.van.a@example.vn", "an e-mail address"),
    ],
)
def test_personal_data_is_refused(text: str, kind: str) -> None:
    with pytest.raises(PersonalDataInFreeText) as caught:
        refuse_personal_data("reasons", ["thiếu tờ khai", text])
    assert caught.value.check == "privacy.free_text"
    assert caught.value.where == "reasons[1]"
    assert caught.value.found == kind
    assert text not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "thiếu bản sao giấy khai sinh",
        "hồ sơ nộp ngày 02/03/2026, bước 2 của 3",
        "mẫu TK-01 (bản 2024)",
        "12345678901234 is a 14-digit register number",
    ],
)
def test_ordinary_reasons_pass(text: str) -> None:
    refuse_personal_data("reasons", [text])  # raises nothing
    assert not any(pattern.search(text) for _, pattern in PATTERNS)
