"""The authorization matrix: every endpoint × every principal kind is either allowed or
refused with 401/403/404, and no response carries another agency's or citizen's data."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from ledger.demo.office import WARD
from tests.api.api_world import World, bearer

pytestmark = pytest.mark.integration

PRINCIPALS = (
    "public",
    "officer_a",
    "officer_b",
    "system_a",
    "inspector",
    "citizen_x",
    "citizen_y",
    "witness",
)
OFFICIALS_A = frozenset({"officer_a", "system_a", "inspector"})
OFFICIALS = frozenset({"officer_a", "officer_b", "system_a", "inspector"})
EVERYONE = frozenset(PRINCIPALS)
AUTHORISED = (
    "pass"  # authorised: the request got past auth and scope (2xx, or a 4xx about its input)
)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    allowed: frozenset[str]
    hidden: frozenset[str] = frozenset()  # principals that get 404 (exists, but not theirs)
    content: bytes | None = None
    json: dict[str, object] | None = None


def routes(world: World) -> list[Route]:
    a = world.codes["ward_done"]
    size = world.ledger.log.size()
    return [
        Route("GET", "/v1/dossiers", OFFICIALS),
        Route("GET", f"/v1/dossiers/{a}", OFFICIALS_A, frozenset({"officer_b"})),
        Route("GET", f"/v1/dossiers/{a}/results", OFFICIALS_A, frozenset({"officer_b"})),
        Route("GET", f"/v1/dossiers/{a}/portal-sync", OFFICIALS_A, frozenset({"officer_b"})),
        Route(
            "GET",
            f"/v1/dossiers/{a}/applicant?purpose=processing",
            OFFICIALS_A,
            frozenset({"officer_b"}),
        ),
        Route("GET", f"/v1/streams/{a}/head", OFFICIALS_A, frozenset({"officer_b"})),
        Route(
            "POST",
            f"/v1/dossiers/{a}/commands/assign",
            frozenset({"officer_a", "system_a"}),
            frozenset({"officer_b"}),
            json={"handler": "x", "department": "y"},
        ),
        Route("POST", "/v1/events", OFFICIALS, content=b"\xc1 not a record"),
        Route("GET", "/v1/statistics?period=2026-03", OFFICIALS),
        Route("GET", "/v1/overdue", OFFICIALS),
        Route("GET", f"/v1/inbox?agency={WARD}", frozenset({"officer_a", "system_a", "inspector"})),
        Route("GET", "/v1/findings", OFFICIALS),
        Route("GET", "/v1/audit/report", frozenset({"inspector"})),
        Route("GET", "/v1/me/dossiers", frozenset({"citizen_x", "citizen_y"})),
        Route("GET", "/v1/me/access-log", frozenset({"citizen_x", "citizen_y"})),
        Route("GET", f"/v1/me/dossiers/{a}", frozenset({"citizen_x"}), frozenset({"citizen_y"})),
        Route(
            "GET",
            f"/v1/me/dossiers/{a}/results",
            frozenset({"citizen_x"}),
            frozenset({"citizen_y"}),
        ),
        Route("GET", "/healthz", EVERYONE),
        Route("GET", "/readyz", EVERYONE),
        Route("GET", "/v1/checkpoints/latest", EVERYONE),
        Route("GET", f"/v1/checkpoints/{size}", EVERYONE),
        Route("GET", "/v1/proofs/inclusion?index=0", EVERYONE),
        Route("GET", f"/v1/proofs/consistency?from=1&to={size}", EVERYONE),
        Route("POST", "/v1/witness/add-checkpoint", frozenset({"witness"}), content=b"old 0\n"),
        Route("GET", f"/v1/dossiers/{a}/bundle", OFFICIALS_A, frozenset({"officer_b"})),
        Route("GET", "/v1/seals/trust-list", EVERYONE),
        Route("GET", f"/v1/index?stream={a}", EVERYONE),
        Route("GET", f"/v1/status-lists/{WARD}/0", EVERYONE),
        Route("POST", "/v1/seals/verify", EVERYONE, json={"seal": "HS1:"}),
        Route("GET", "/s/0001", EVERYONE),
        Route("GET", "/checkpoint", EVERYONE),
        Route("GET", "/tile/0/000.p/1", EVERYONE),
        Route("GET", "/tile/entries/000.p/1", frozenset({"inspector"})),
    ]


def test_the_matrix_covers_every_operation(world: World, client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    covered = [(r.method, r.path.split("?")[0]) for r in routes(world)]
    missing = []
    for template, operations in spec["paths"].items():
        path_params = template.replace("{rest}", ".+")  # the tile routes' {rest:path}
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path_params) + "$")
        for method in operations:
            if not any(m == method.upper() and pattern.match(p) for m, p in covered):
                missing.append(f"{method.upper()} {template}")
    assert missing == []


def secrets_of(world: World) -> dict[str, list[str]]:
    """What each principal must never see: the other side's dossier codes and commitments."""
    sql = world.ledger.backend.sql
    applicant = {
        code: bytes(
            sql.rows("SELECT applicant FROM hoso_v_dossiers WHERE code = %s", [code])[0][
                "applicant"
            ]
        ).hex()
        for code in world.codes.values()
    }
    ward = [world.codes["ward_done"], world.codes["ward_open"]]
    police = [world.codes["police_done"]]
    return {
        "officer_a": police + [applicant[c] for c in police],
        "system_a": police + [applicant[c] for c in police],
        "officer_b": ward + [applicant[c] for c in ward],
        "citizen_x": [*police, world.codes["ward_open"], applicant[police[0]]],
        "citizen_y": [*ward, applicant[ward[0]]],
        "public": ward + police,
        "witness": ward + police,
        "inspector": [],
    }


def expected(route: Route, who: str) -> set[int] | str:
    if route.allowed >= {who}:
        return AUTHORISED
    if who == "public":
        return {401}
    if who in route.hidden:
        return {404}
    return {403}


def test_every_endpoint_for_every_principal(world: World, client: TestClient) -> None:
    forbidden_text = secrets_of(world)
    failures = []
    for route in routes(world):
        for who in PRINCIPALS:
            headers = {} if who == "public" else bearer(world, who)
            if route.content is not None:
                headers["Content-Type"] = "application/msgpack"
            response = client.request(
                route.method, route.path, headers=headers, content=route.content, json=route.json
            )
            want = expected(route, who)
            status = response.status_code
            ok = (
                (200 <= status < 300 or status in (400, 409, 422))
                if want == AUTHORISED
                else status in want
            )
            if not ok:
                failures.append(f"{route.method} {route.path} as {who}: {status} (want {want})")
            leaked = [s for s in forbidden_text[who] if s in response.text]
            if leaked:
                failures.append(f"{route.method} {route.path} as {who} leaked {leaked}")
    assert not failures, "\n".join(failures)


def test_tokens_that_do_not_authenticate(world: World, client: TestClient) -> None:
    path = f"/v1/dossiers/{world.codes['ward_done']}"
    for value in ("Bearer nonsense", "Basic abc", "Bearer hoso_0123456789abcdef_wrong", "Bearer "):
        response = client.get(path, headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["check"] == "auth.required"
    token = world.tokens["officer_a"]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(path, headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_revoked_and_expired_tokens_stop_working(world: World) -> None:
    from api.app import create_app  # noqa: PLC0415
    from api.tokens import TokenStore  # noqa: PLC0415

    settings = world.ledger.settings.model_copy(update={"api_token_cache_s": 0})
    app = create_app(settings, ledger=world.ledger, clock_us=world.clock)
    store = TokenStore(world.ledger.backend.sql, clock_us=world.clock)
    issued = store.issue(kind="inspector", actor="inspector:thanhtra-01", agency="H26.THANHTRA")
    expiring = store.issue(
        kind="inspector",
        actor="inspector:thanhtra-01",
        agency="H26.THANHTRA",
        expires_us=world.clock() + 1_000_000,
    )
    with TestClient(app) as client:
        for token in (issued.token, expiring.token):
            auth = {"Authorization": f"Bearer {token}"}
            assert client.get("/v1/dossiers", headers=auth).status_code == 200
        store.revoke(issued.record.token_id)
        world.clock.now += 2_000_000
        for token in (issued.token, expiring.token):
            auth = {"Authorization": f"Bearer {token}"}
            assert client.get("/v1/dossiers", headers=auth).status_code == 401
    stored = {r.token_id: r for r in store.list()}
    assert stored[issued.record.token_id].revoked_us is not None
    secret = issued.token.split("_", 2)[2]  # the secret itself may hold "_"
    rows = world.ledger.backend.sql.rows("SELECT * FROM hoso_api_tokens")
    assert all(secret not in str(dict(r)) for r in rows)  # only the hash is stored
