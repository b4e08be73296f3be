"""Two-step verification: a TOTP authenticator (RFC 6238 via pyotp) and hashed recovery codes.

A TOTP code is accepted for the current 30-second step or one either side, and never twice
(the newest accepted step is stored and only later steps pass). The seed is kept sealed with a
key derived from IDENTITY_CODE_SECRET. Recovery codes are shown
once, stored as keyed hashes, and each works once.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

import pyotp
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import ConflictError, UnauthenticatedError
from subgraphs.identity.models import RecoveryCode, TotpFactor, utcnow
from subgraphs.identity.security.codes import code_digest, new_recovery_code, normalize_code
from subgraphs.identity.security.sealed import open_sealed, seal
from subgraphs.identity.services._validation import bad
from subgraphs.identity.services.audit import AuditEventType, record_audit_event

__all__ = [
    "RECOVERY_CODE_COUNT",
    "TotpSetup",
    "begin_totp",
    "check_second_factor",
    "disable_totp",
    "enable_totp",
    "regenerate_recovery_codes",
    "totp_enabled",
]

RECOVERY_CODE_COUNT = 10
_WINDOW = 1  # steps accepted either side of now: clocks drift, users type slowly


@dataclass(frozen=True, kw_only=True, slots=True)
class TotpSetup:
    secret: str
    uri: str


async def totp_enabled(session: AsyncSession, user_id: str) -> bool:
    factor = await session.get(TotpFactor, user_id)
    return factor is not None and factor.confirmed_at is not None


async def begin_totp(
    session: AsyncSession, *, pepper: bytes, user_id: str, account_name: str, issuer: str
) -> TotpSetup:
    """A new secret awaiting its first code (replacing an unconfirmed one); CONFLICT when
    TOTP is already on."""
    factor = await session.get(TotpFactor, user_id)
    if factor is not None and factor.confirmed_at is not None:
        raise ConflictError("Two-step verification is already on; turn it off first.",
                            extensions={"reason": "ALREADY_ENABLED"})
    secret = pyotp.random_base32()
    sealed = seal(pepper, owner=user_id, secret=secret)
    if factor is None:
        session.add(TotpFactor(user_id=user_id, secret=sealed))
    else:
        factor.secret, factor.last_step, factor.created_at = sealed, 0, utcnow()
    await session.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=issuer)
    return TotpSetup(secret=secret, uri=uri)


async def enable_totp(
    session: AsyncSession, *, pepper: bytes, user_id: str, code: str, ip: str | None = None
) -> list[str]:
    """Confirm the pending secret with a code from the authenticator; the recovery codes."""
    factor = await session.get(TotpFactor, user_id)
    if factor is None or factor.confirmed_at is not None:
        raise bad("code", "Start with setupTotp first.", "NO_PENDING_SETUP")
    if not await _accept_totp(session, factor, code, pepper=pepper):
        raise _wrong()
    factor.confirmed_at = utcnow()
    codes = _replace_recovery_codes(session, pepper=pepper, user_id=user_id)
    record_audit_event(session, AuditEventType.TOTP_ENABLED, user_id=user_id, ip=ip)
    await session.commit()
    return codes


async def regenerate_recovery_codes(
    session: AsyncSession, *, pepper: bytes, user_id: str
) -> list[str]:
    """New recovery codes (the old ones stop working); the caller checked a second factor."""
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))  # type: ignore[arg-type]
    codes = _replace_recovery_codes(session, pepper=pepper, user_id=user_id)
    await session.commit()
    return codes


def _replace_recovery_codes(session: AsyncSession, *, pepper: bytes, user_id: str) -> list[str]:
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        row = RecoveryCode(user_id=user_id, code_hash="")
        row.code_hash = code_digest(pepper, salt=row.id, code=code)
        session.add(row)
    return codes


async def check_second_factor(
    session: AsyncSession, *, pepper: bytes, user_id: str, code: str, ip: str | None = None
) -> None:
    """Accept a TOTP code or an unused recovery code (spending it), committed; else
    UNAUTHENTICATED reason CODE_INVALID (recorded in the audit log)."""
    factor = await session.get(TotpFactor, user_id)
    if factor is None or factor.confirmed_at is None:
        raise bad("code", "Two-step verification is not on for this account.", "NOT_ENABLED")
    cleaned = normalize_code(code)
    if cleaned.isdigit():
        accepted = await _accept_totp(session, factor, cleaned, pepper=pepper)
    else:
        accepted = await _spend_recovery_code(session, pepper=pepper, user_id=user_id,
                                              code=cleaned)
    if not accepted:
        await session.rollback()
        record_audit_event(session, AuditEventType.SECOND_FACTOR_FAILED, user_id=user_id, ip=ip)
        await session.commit()
        raise _wrong()
    if not cleaned.isdigit():
        record_audit_event(session, AuditEventType.RECOVERY_CODE_USED, user_id=user_id, ip=ip)
    await session.commit()


async def disable_totp(
    session: AsyncSession, *, pepper: bytes, user_id: str, code: str, ip: str | None = None
) -> None:
    await check_second_factor(session, pepper=pepper, user_id=user_id, code=code, ip=ip)
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))  # type: ignore[arg-type]
    await session.execute(delete(TotpFactor).where(TotpFactor.user_id == user_id))  # type: ignore[arg-type]
    record_audit_event(session, AuditEventType.TOTP_DISABLED, user_id=user_id, ip=ip)
    await session.commit()


async def _accept_totp(
    session: AsyncSession, factor: TotpFactor, code: str, *, pepper: bytes
) -> bool:
    code = normalize_code(code)
    if len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(open_sealed(pepper, owner=factor.user_id, sealed=factor.secret))
    now = time.time()
    current = totp.timecode(now)
    for offset in range(-_WINDOW, _WINDOW + 1):
        step = current + offset
        if step > factor.last_step and hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            # Conditional: of two concurrent answers with the same code only one passes.
            result = await session.execute(
                update(TotpFactor)
                .where(TotpFactor.user_id == factor.user_id, TotpFactor.last_step < step)  # type: ignore[arg-type]
                .values(last_step=step)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]
    return False


async def _spend_recovery_code(
    session: AsyncSession, *, pepper: bytes, user_id: str, code: str
) -> bool:
    rows = (await session.execute(
        select(RecoveryCode).where(RecoveryCode.user_id == user_id,  # type: ignore[arg-type]
                                   RecoveryCode.used_at.is_(None))  # type: ignore[union-attr]
    )).scalars().all()
    for row in rows:
        if hmac.compare_digest(code_digest(pepper, salt=row.id, code=code), row.code_hash):
            result = await session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))  # type: ignore[arg-type,union-attr]
                .values(used_at=utcnow())
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]
    return False


def _wrong() -> UnauthenticatedError:
    return UnauthenticatedError("The verification code is not right.",
                                extensions={"reason": "CODE_INVALID"})
