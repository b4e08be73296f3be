"""Real protocol peers on loopback for identity's senders: an SMTP server and a Twilio-shaped API."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpInbox:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)

    def last_to(self, address: str) -> Message | None:
        return next((m for m in reversed(self.messages) if m["To"] == address), None)


class _Handler:
    def __init__(self, inbox: SmtpInbox) -> None:
        self.inbox = inbox

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.inbox.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.inbox.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted"


def self_signed(tmp: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context for 127.0.0.1 and a client context trusting only that certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "smtp.crt", tmp / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client


@contextmanager
def smtp_server(*, username: str | None = None, password: str | None = None,
                tls_context: ssl.SSLContext | None = None) -> Iterator[SmtpInbox]:
    """aiosmtpd on loopback; with `username` it requires AUTH with that password, with
    `tls_context` it requires STARTTLS."""
    inbox = SmtpInbox(host="127.0.0.1", port=free_port())

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == username
              and auth_data.password.decode() == password)
        if ok:
            inbox.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=ok)

    kwargs: dict[str, object] = {}
    if username is not None:
        # AUTH is required only over TLS (aiosmtpd warns about requiring it in clear text).
        kwargs.update(authenticator=authenticate, auth_required=tls_context is not None,
                      auth_exclude_mechanism=["LOGIN"],
                      auth_require_tls=tls_context is not None)
    if tls_context is not None:
        kwargs.update(tls_context=tls_context, require_starttls=True)
    controller = Controller(_Handler(inbox), hostname=inbox.host, port=inbox.port, **kwargs)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@dataclass
class TwilioApi:
    """What a Twilio-shaped peer received, and how it should answer."""

    url: str
    account_sid: str
    auth_token: str
    requests: list[dict[str, object]] = field(default_factory=list)
    fail_with: tuple[int, dict[str, object]] | None = None

    def last_to(self, to: str) -> dict[str, str] | None:
        for request in reversed(self.requests):
            form = request["form"]
            assert isinstance(form, dict)
            if form.get("To") == to:
                return form
        return None


@contextmanager
def twilio_api(*, account_sid: str = "AC" + "0" * 32, auth_token: str = "twilio-test-token"
               ) -> Iterator[TwilioApi]:
    """An HTTP server speaking the Messages API: form-encoded POST to
    /2010-04-01/Accounts/{sid}/Messages.json with basic auth, answering 201 and a message."""
    port = free_port()
    api = TwilioApi(url=f"http://127.0.0.1:{port}", account_sid=account_sid,
                    auth_token=auth_token)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length).decode()
            expected_auth = "Basic " + base64.b64encode(
                f"{account_sid}:{auth_token}".encode()).decode()
            if self.path != f"/2010-04-01/Accounts/{account_sid}/Messages.json":
                return self._answer(404, {"code": 20404, "message": "not found", "status": 404})
            if self.headers.get("authorization") != expected_auth:
                return self._answer(401, {"code": 20003, "message": "Authenticate",
                                          "status": 401})
            if self.headers.get("content-type", "").split(";")[0] != (
                    "application/x-www-form-urlencoded"):
                return self._answer(400, {"code": 20001, "message": "form expected",
                                          "status": 400})
            form = dict(parse_qsl(body, keep_blank_values=True))
            api.requests.append({"path": self.path, "form": form})
            if api.fail_with is not None:
                return self._answer(*api.fail_with)
            sid = "SM" + uuid.uuid4().hex
            return self._answer(201, {"sid": sid, "status": "queued", "to": form.get("To"),
                                      "from": form.get("From"), "body": form.get("Body"),
                                      "account_sid": account_sid})

        def _answer(self, status: int, payload: dict[str, object]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
