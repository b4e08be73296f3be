"""Tried as a new user would, through the gateway: sign up with a phone code read from the dev
sender, add an email confirmed over a real SMTP server, forget the password and reset it by
email, and find every old session revoked; an expired API key is refused by identity and by
social (which asks identity's internal verify route)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

from shared.db import create_database
from shared.redis import MemoryStore, create_kv
from subgraphs.identity.app import create_app as create_identity
from subgraphs.identity.models import ApiKey
from tests.e2e._stack import (
    Api,
    identity_settings,
    memory_kv,
    serve,
    social_settings,
    start_gateway,
    start_social,
    stopping,
    supergraph_of,
)
from tests.subgraphs.identity._providers import smtp_server

PHONE = "+971501234567"
REQUEST = """mutation($c: CodeChannel!, $d: String!) {
  requestSignInCode(channel: $c, destination: $d) { destination } }"""
SIGN_IN = """mutation($d: String!, $code: String!) {
  signInWithCode(channel: WHATSAPP, destination: $d, code: $code, handle: "dana") {
    accessToken refreshToken user { id handle phone } } }"""
LOGIN = "mutation($p: String!) { login(input: {login: \"dana\", password: $p}) { accessToken refreshToken } }"
REFRESH = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }"
NEW_PASSWORD = "Brand-New-Horse-77"


def code_in(text: str) -> str:
    match = re.search(r"code is (\d{6})\.", text)
    assert match, text
    return match.group(1)


async def test_phone_sign_up_email_reset_and_expired_keys_through_the_gateway(tmp_path: Path):
    with smtp_server() as inbox:
        async with stopping() as servers, httpx.AsyncClient(timeout=10) as http:
            settings = identity_settings(
                tmp_path, email_provider="smtp", smtp_host=inbox.host, smtp_port=inbox.port,
                smtp_from="codes@tributary.test", smtp_starttls=False)
            kv = create_kv(None, prefix="tributary:test:e2e:codes:identity:", store=MemoryStore())
            servers.append(identity := await serve(create_identity(settings, kv=kv)))
            social = await start_social(servers, social_settings(tmp_path, identity=identity),
                                        kv=memory_kv("tributary:test:e2e:codes:social:"),
                                        routes_kv=memory_kv("tributary:test:e2e:codes:routes:"))
            supergraph = await supergraph_of({"identity": identity.graphql,
                                              "social": social.graphql})
            gateway = await start_gateway(servers, supergraph, identity=identity)
            api = Api(http, gateway.graphql)
            outbox = identity.app.state.identity.senders.dev

            # Sign up with a WhatsApp code from the dev sender.
            await api.data(REQUEST, {"c": "WHATSAPP", "d": PHONE})
            code = code_in(outbox.last_to(PHONE).body)
            first = (await api.data(SIGN_IN, {"d": PHONE, "code": code}))["signInWithCode"]
            token = first["accessToken"]
            assert first["user"]["phone"] == PHONE
            # A wrong code and a replay: coded, nothing half-written.
            replay = await api(SIGN_IN, {"d": PHONE, "code": code})
            assert replay["errors"][0]["extensions"]["reason"] == "CODE_INVALID"

            # Add an email, confirmed by the code that arrives at the SMTP server.
            await api.data('mutation { requestEmailChange(email: "dana@example.org") { destination } }',
                           token=token)
            mail = inbox.last_to("dana@example.org")
            await api.data("mutation($c: String!) { confirmEmailChange(code: $c) { email } }",
                           {"c": code_in(mail.get_payload())}, token=token)
            await api.data("mutation($p: String!) { changePassword(newPassword: $p) }",
                           {"p": "Correct-Horse-42"}, token=token)
            laptop = (await api.data(LOGIN, {"p": "Correct-Horse-42"}))["login"]

            # Forgot it: reset by email.
            await api.data('mutation { requestPasswordReset(channel: EMAIL, destination: "dana@example.org") { destination } }')
            reset_mail = inbox.last_to("dana@example.org")
            assert reset_mail["Subject"] == "Reset your Tributary password"
            await api.data("""mutation($c: String!, $p: String!) {
              resetPassword(channel: EMAIL, destination: "dana@example.org", code: $c, newPassword: $p) }""",
                           {"c": code_in(reset_mail.get_payload()), "p": NEW_PASSWORD})
            # Every old session is gone: refresh tokens and access tokens.
            refused = await http.post(gateway.graphql, json={"query": "{ me { id } }"},
                                      headers={"authorization": f"Bearer {laptop['accessToken']}"})
            assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            old_refresh = await api(REFRESH, {"t": laptop["refreshToken"]})
            assert old_refresh["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            assert (await api(LOGIN, {"p": "Correct-Horse-42"}))["errors"][0]["extensions"][
                "code"] == "UNAUTHENTICATED"
            fresh = (await api.data(LOGIN, {"p": NEW_PASSWORD}))["login"]["accessToken"]

            # An API key past its expiry works nowhere.
            created = await api.data(
                'mutation { createApiKey(name: "bot", scopes: ["write", "read"], expiresInDays: 1) { secret } }',
                token=fresh)
            key = created["createApiKey"]["secret"]
            database = create_database(settings.database_url)
            try:
                async with database.engine.begin() as conn:
                    await conn.execute(sa.update(ApiKey).values(
                        expires_at=datetime.now(UTC) - timedelta(seconds=1)))
            finally:
                await database.dispose()
            for query in ("{ me { id } }",
                          'mutation { createPost(input: {text: "from an expired key"}) { id } }'):
                answer = await http.post(gateway.graphql, json={"query": query},
                                         headers={"authorization": f"ApiKey {key}"})
                assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", (
                    query, answer.text)
