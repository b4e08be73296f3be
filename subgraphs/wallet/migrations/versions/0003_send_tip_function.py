"""PostgreSQL: a tip is one call to wallet_send_tip

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:10:00

The function does, in the caller's (implicit) transaction and in one round trip, what the
portable path in `services/tips.py` does in ten: claim the idempotency key, lock both accounts
in ascending id order, refuse an overdraft, write the balanced entry, its two lines, the cached
balances, the tip row and its outbox events. Row locks are therefore held only while the server
runs it, never across a round trip to a busy application process. SQLite keeps the portable
path (it has a single writer anyway).

Errors: an overdraft raises P0001 with the message `wallet: insufficient funds` and the
available balance as DETAIL; everything the call wrote is rolled back with it.
A key that is already claimed returns the stored (operation, request hash, result) with
`replayed` true, and the caller decides between replay and conflict.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SEND_TIP = """
CREATE OR REPLACE FUNCTION wallet_send_tip(
    p_principal text, p_key text, p_operation text, p_request_hash text, p_result json,
    p_tip_id text, p_entry_id text, p_sender text, p_recipient text, p_currency text,
    p_amount bigint, p_post_id text, p_message_kid text, p_message bytea, p_events json,
    p_now timestamptz
) RETURNS TABLE (out_replayed boolean, out_operation text, out_request_hash text, out_result json)
LANGUAGE plpgsql AS $$
DECLARE
    v_account record;
    v_sender_id integer;
    v_sender_balance bigint;
    v_recipient_id integer;
BEGIN
    -- Claim the key first: a concurrent duplicate waits on it for this transaction's outcome.
    INSERT INTO wallet_idempotency_keys (principal, key, operation, request_hash, result, created_at)
    VALUES (p_principal, p_key, p_operation, p_request_hash, p_result, p_now)
    ON CONFLICT (principal, key) DO NOTHING;
    IF NOT FOUND THEN
        RETURN QUERY
            SELECT true, k.operation::text, k.request_hash::text, k.result
            FROM wallet_idempotency_keys k
            WHERE k.principal = p_principal AND k.key = p_key;
        RETURN;
    END IF;

    -- Ascending id, as the portable path locks: two entries on the same accounts cannot deadlock.
    FOR v_account IN
        SELECT a.id, a.owner_id, a.balance FROM wallet_accounts a
        WHERE a.owner_kind = 'user' AND a.currency = p_currency
          AND a.owner_id IN (p_sender, p_recipient)
        ORDER BY a.id
        FOR UPDATE
    LOOP
        IF v_account.owner_id = p_sender THEN
            v_sender_id := v_account.id;
            v_sender_balance := v_account.balance;
        ELSE
            v_recipient_id := v_account.id;
        END IF;
    END LOOP;

    IF v_sender_id IS NULL OR v_sender_balance < p_amount THEN
        RAISE EXCEPTION 'wallet: insufficient funds'
            USING DETAIL = coalesce(v_sender_balance, 0)::text;
    END IF;

    IF v_recipient_id IS NULL THEN
        -- A first tip to this user in this currency; a concurrent first tip may create it too.
        INSERT INTO wallet_accounts (owner_kind, owner_id, currency, balance, allow_negative, created_at)
        VALUES ('user', p_recipient, p_currency, 0, false, p_now)
        ON CONFLICT ON CONSTRAINT uq_wallet_accounts_owner DO NOTHING;
        SELECT a.id INTO v_recipient_id FROM wallet_accounts a
        WHERE a.owner_kind = 'user' AND a.owner_id = p_recipient AND a.currency = p_currency
        FOR UPDATE;
    END IF;

    INSERT INTO wallet_journal_entries (id, kind, currency, reference, created_at)
    VALUES (p_entry_id, 'tip', p_currency, 'tip:' || p_tip_id, p_now);
    INSERT INTO wallet_journal_lines (entry_id, account_id, currency, amount)
    VALUES (p_entry_id, v_sender_id, p_currency, -p_amount),
           (p_entry_id, v_recipient_id, p_currency, p_amount);
    UPDATE wallet_accounts SET balance = balance - p_amount WHERE id = v_sender_id;
    UPDATE wallet_accounts SET balance = balance + p_amount WHERE id = v_recipient_id;
    INSERT INTO wallet_tips (id, sender_id, recipient_id, post_id, currency, amount,
                             message_kid, message_ciphertext, entry_id, created_at)
    VALUES (p_tip_id, p_sender, p_recipient, p_post_id, p_currency, p_amount,
            p_message_kid, p_message, p_entry_id, p_now);
    INSERT INTO outbox_events (id, topic, key, payload, created_at, attempts)
    SELECT e.id, e.topic, e.key, e.payload, p_now, 0
    FROM json_to_recordset(p_events) AS e(id text, topic text, key text, payload json);

    RETURN QUERY SELECT false, p_operation, p_request_hash, p_result;
END
$$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SEND_TIP)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS wallet_send_tip(text, text, text, text, json, text, text, text,"
            " text, text, bigint, text, text, bytea, json, timestamptz)"
        )
