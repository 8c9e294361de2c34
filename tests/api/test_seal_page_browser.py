"""The verification page in a real browser: Debian's headless chromium driven by Playwright.

Requests to the verification host are answered by the page router in-process
(Playwright's request routing), so the browser runs the real HTML, CSS and
script over https (``crypto.subtle`` needs a secure context) without a server
or a certificate. Screenshots go to tests/artefacts/ (gitignored). Without
chromium this fails; ``HOSO_SKIP_BROWSER=1`` is the one way to skip it.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, FilePayload, Page, Route, sync_playwright

from api.routes.seals import router, seal_backend
from ledger.core.seal import seal_url, sign_seal
from ledger.services.seals.issue import seal_claims
from tests.services.seal_world import World, open_world

pytestmark = pytest.mark.integration

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

HOST = "https://xacthuc.hoso.example"
ARTEFACTS = Path(__file__).resolve().parents[1] / "artefacts"
CHROMIUM = os.environ.get("HOSO_CHROMIUM", "/usr/bin/chromium")

if os.environ.get("HOSO_SKIP_BROWSER") == "1":
    pytest.skip("HOSO_SKIP_BROWSER=1: browser tests skipped on request", allow_module_level=True)


@pytest.fixture(scope="module")
def seal_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The seal tests' ledger (tests/services/seal_world.py): results in each state."""
    opened = open_world(tmp_path_factory.mktemp("seal-world"))
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"no chromium at {CHROMIUM}: apt-get install -y chromium (or HOSO_SKIP_BROWSER=1)"
        )
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, seal_world: World) -> Iterator[Page]:
    app = FastAPI()
    app.include_router(router)
    app.dependency_overrides[seal_backend] = lambda: seal_world.seal_backend
    http = TestClient(app)

    def answer(route: Route) -> None:
        url = route.request.url.removeprefix(HOST)
        response = http.get(url)
        route.fulfill(
            status=response.status_code, headers=dict(response.headers), body=response.content
        )

    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    opened = context.new_page()
    opened.route(f"{HOST}/**", answer)
    yield opened
    context.close()


def url_for(seal_world: World, story: str, number: str, *, flip: int | None = None) -> str:
    claims = seal_claims(seal_world.parts, seal_world.codes[story], number, seal_world.ward_seal)
    seal = bytearray(sign_seal(claims, seal_world.ward_seal))
    if flip is not None:
        seal[flip] ^= 0x01
    return seal_url(HOST, bytes(seal))


def shoot(page: Page, name: str) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"seal-{name}.png"), full_page=True)


def test_valid_seal_reads_as_valid_and_matches_its_file(page: Page, seal_world: World) -> None:
    page.goto(url_for(seal_world, "valid", "KS-0001"))
    verdict = page.locator("#verdict")
    assert verdict.get_attribute("data-outcome") == "valid"
    assert "Xác thực: kết quả hợp lệ" in verdict.inner_text()
    claims = page.locator("#claims").inner_text()
    assert "KS-0001" in claims
    assert "000.39.05.H26" in claims
    assert "Đăng ký khai sinh" in claims
    assert "sổ cái" in page.locator("#log").inner_text()
    page.set_input_files(
        "#doc",
        files=[
            FilePayload(
                name="KS-0001.pdf",
                mimeType="application/pdf",
                buffer=seal_world.document("valid", "KS-0001"),
            )
        ],
    )
    page.wait_for_function("document.getElementById('doc-result').dataset.match === 'yes'")
    assert "khớp" in page.locator("#doc-result").inner_text()
    shoot(page, "valid-vi")
    page.set_input_files(
        "#doc", files=[FilePayload(name="fake.pdf", mimeType="application/pdf", buffer=b"forged")]
    )
    page.wait_for_function("document.getElementById('doc-result').dataset.match === 'no'")
    assert "KHÔNG khớp" in page.locator("#doc-result").inner_text()
    page.click("#lang")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Authentic and valid" in page.locator("#verdict").inner_text()
    shoot(page, "valid-en")


def test_revoked_seal_reads_as_revoked(page: Page, seal_world: World) -> None:
    page.goto(url_for(seal_world, "revoked", "KS-0002"))
    verdict = page.locator("#verdict")
    assert verdict.get_attribute("data-outcome") == "revoked"
    assert "Kết quả đã bị thu hồi" in verdict.inner_text()
    shoot(page, "revoked-vi")


def test_superseded_seal_names_its_successor(page: Page, seal_world: World) -> None:
    page.goto(url_for(seal_world, "corrected", "TL-0003") + "?lang=en")
    verdict = page.locator("#verdict").inner_text()
    assert "superseded" in verdict
    assert "TL-0003a" in verdict
    shoot(page, "superseded-en")


def test_tampered_seal_reads_as_invalid(page: Page, seal_world: World) -> None:
    page.goto(url_for(seal_world, "valid", "KS-0001", flip=30))
    verdict = page.locator("#verdict")
    assert verdict.get_attribute("data-outcome") == "invalid"
    assert "Không hợp lệ" in verdict.inner_text()
    assert page.locator("#claims").count() == 0  # unverified claims are never shown
    shoot(page, "tampered-vi")
