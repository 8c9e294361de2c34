"""Custodial commands: the system signs for officers whose keys its keystore holds.

A closed set of commands maps to :mod:`ledger.domain.commands` (through
:class:`ledger.services.dossiers.DossierService`). The token's ``key_name`` names the officer's
key in the keystore; before signing, the key must be registered, not revoked, to the
token's actor. Commands whose event needs a further role (a result needs the agency
seal, Decree 30/2020) are cosigned with the keystore key registered with that role
for the officer's agency.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeVar

from api.auth import Principal, check_visible, require
from api.idempotency import IdempotencyStore, check_key, fingerprint, run_once
from api.problems import ApiError, forbidden
from api.schemas import CommandCreate, EventAppendedPublic
from api.submit import leaf_index_of
from ledger.bootstrap import KeystoreClosed, Ledger
from ledger.domain import commands as cmd
from ledger.domain.state import DossierState
from ledger.privacy.free_text import refuse_personal_data
from ledger.services.dossiers import DossierUnknown
from ledger.storage.store import Appended

T = TypeVar("T")
FREE_TEXT: Final = ("items", "reasons", "missing", "step", "department")
"""The arguments that are free text, checked for personal data before anything is signed."""
Build = Callable[[DossierState, CommandCreate], cmd.Draft]


def _need(value: T | None, name: str) -> T:
    if value is None:
        raise ApiError(f"this command needs {name}", check="command.argument", status=422)
    return value


def _hash(value: str | None, name: str) -> bytes:
    return bytes.fromhex(_need(value, name))


DRAFTS: Final[dict[str, Build]] = {
    "assign": lambda s, a: cmd.assign_handler(
        s, handler=_need(a.handler, "handler"), department=_need(a.department, "department")
    ),
    "request-supplement": lambda s, a: cmd.request_supplement(
        s, items=_need(a.items, "items"), reasons=_need(a.reasons, "reasons")
    ),
    "refuse": lambda s, a: cmd.refuse_reception(s, reasons=_need(a.reasons, "reasons")),
    "guidance": lambda s, a: cmd.issue_guidance(
        s, missing=_need(a.missing, "missing"), reasons=_need(a.reasons, "reasons")
    ),
    "complete-step": lambda s, a: cmd.complete_step(s, step=_need(a.step, "step")),
    "issue-result": lambda s, a: cmd.issue_result(
        s,
        result_number=_need(a.result_number, "result_number"),
        result_type=_need(a.result_type, "result_type"),
        document_hash=_hash(a.document_hash, "document_hash"),
        outcome=a.outcome,
        medium=a.medium,
    ),
    "deliver": lambda s, a: cmd.deliver_result(
        s,
        result_number=_need(a.result_number, "result_number"),
        channel=_need(a.channel, "channel"),
    ),
}
COMMANDS: Final = ("receive", "receive-supplement", *DRAFTS)


def officer_key(ledger: Ledger, principal: Principal) -> str:
    """The keystore name of the principal's own key, checked against the registry."""
    if ledger.keystore is None:
        raise KeystoreClosed("the API runs without a keystore: custodial signing is off")
    name = principal.key_name
    if name is None or name not in ledger.keystore:
        raise forbidden("this token names no custodial key in the keystore", check="custody.no_key")
    key_id = ledger.keystore.public_key(name).key_id
    record = ledger.store.keys([key_id]).get(key_id)
    if record is None or record.revoked or record.actor != principal.actor:
        raise forbidden(
            "the custodial key is not registered (or revoked) for this token's actor",
            check="custody.key_mismatch",
        )
    return name


def cosigner_key(ledger: Ledger, role: str, agency: str) -> str:
    """The keystore key registered with ``role`` for ``agency`` (e.g. the agency seal)."""
    infos = ledger.signing_keys().public_keys()
    records = ledger.store.keys([info.key_id for info in infos.values()])
    for name, info in infos.items():
        record = records.get(info.key_id)
        if record and not record.revoked and role in record.roles and record.agency == agency:
            return name
    raise forbidden(
        f"the keystore holds no {role} key for agency {agency}", check="custody.no_cosigner"
    )


def run(
    ledger: Ledger, principal: Principal | None, code: str, command: str, args: CommandCreate
) -> EventAppendedPublic:
    who = require(principal, "officer", "system")
    for field in FREE_TEXT:
        value = getattr(args, field)
        refuse_personal_data(field, [value] if isinstance(value, str) else value or ())
    state = ledger.dossiers.state(code)
    if state is None:
        raise DossierUnknown("no dossier with this code", where=code, found=code)
    check_visible(who, {state.agency, state.current_agency})
    key = officer_key(ledger, who)
    appended = _execute(
        ledger, who=who, key=key, state=state, code=code, command=command, args=args
    )
    return EventAppendedPublic(
        stream=appended.stream,
        n=appended.n,
        event_hash=appended.event_hash.hex(),
        duplicate=appended.duplicate,
        leaf_index=leaf_index_of(ledger, appended.event_hash),
    )


def run_idempotent(
    ledger: Ledger,
    keys: IdempotencyStore,
    principal: Principal | None,
    *,
    code: str,
    command: str,
    args: CommandCreate,
    key: str | None,
) -> tuple[EventAppendedPublic, bool]:
    """:func:`run`, at most once per ``Idempotency-Key`` (api/idempotency.py)."""
    if key is None:
        return run(ledger, principal, code, command, args), False
    who = require(principal, "officer", "system")
    return run_once(
        ledger,
        keys,
        actor=who.actor,
        key=check_key(key),
        digest=fingerprint(command, code, args),
        code=code,
        command=lambda: run(ledger, principal, code, command, args),
    )


def _execute(
    ledger: Ledger,
    *,
    who: Principal,
    key: str,
    state: DossierState,
    code: str,
    command: str,
    args: CommandCreate,
) -> Appended:
    if command == "receive":
        return ledger.dossiers.receive(
            code,
            actor=who.actor,
            keys=[key],
            receipt_hash=_hash(args.receipt_hash, "receipt_hash"),
            verification=args.verification,
        )
    if command == "receive-supplement":
        return ledger.dossiers.receive_supplement(
            code, actor=who.actor, keys=[key], items=_need(args.items, "items")
        )
    draft = DRAFTS[command](state, args)
    keys = [key, *(cosigner_key(ledger, role, who.agency) for role in draft.cosign_roles)]
    return ledger.dossiers.execute(code, draft, actor=who.actor, keys=keys)
