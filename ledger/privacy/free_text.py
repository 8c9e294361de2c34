"""Free text that would carry personal data into signed, unerasable bytes is refused.

Refusal reasons, supplement items, guidance notes and the like are hashed and signed
into the ledger, which can never erase them (docs/privacy.md §Free text). Whatever
looks like personal data is refused before anything is signed, with the field and
the kind of data named (never the value): a 12-digit citizen id number (CCCD), a
9-digit identity-card number, a Vietnamese phone number (+84 / 0 followed by 9
digits, spaces, dots or dashes allowed), an e-mail address. Names can't be told
from words by a pattern: the officers' guidance (docs/privacy.md) is to refer to the
applicant as "the applicant", and the vault holds the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ledger.core.errors import MalformedError

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a 12-digit citizen id number", re.compile(r"(?<!\d)\d{12}(?!\d)")),
    ("a 9-digit identity card number", re.compile(r"(?<!\d)\d{9}(?!\d)")),
    (
        "a phone number",
        re.compile(r"(?<![\d+])(?:\+84|0084|0)[\s.-]?(?:\d[\s.-]?){8}\d(?!\d)"),
    ),
    ("an e-mail address", re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
)


class PersonalDataInFreeText(MalformedError):
    """Free text holds what looks like personal data; it would be unerasable once signed."""

    check = "privacy.free_text"


def refuse_personal_data(field: str, texts: Iterable[str]) -> None:
    """Raise :class:`PersonalDataInFreeText` if any of ``texts`` looks like personal data."""
    for i, text in enumerate(texts):
        for kind, pattern in PATTERNS:
            if pattern.search(text):
                raise PersonalDataInFreeText(
                    f"{field} holds what looks like {kind}: free text is signed and can"
                    " never be erased; refer to the applicant without personal data",
                    where=f"{field}[{i}]",
                    expected="no personal data",
                    found=kind,
                )
