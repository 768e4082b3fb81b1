"""A local SMTP sink (aiosmtpd) for the demo and the tests: saves every message as a .eml file.

It is a real SMTP server on 127.0.0.1, so the drain is exercised end to end; for tests it can be
told to answer with transient or permanent errors, to drop the connection after DATA (before or
after keeping the message), to answer slowly, and to require STARTTLS / implicit TLS and AUTH.

Run it in the foreground with ``python -m tasks.mail.smtp_sink --port 8025 --dir var/mail``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
import socket
import ssl
import threading
import warnings
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from functools import cached_property
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

_log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class ReceivedMessage:
    """One accepted message: envelope, headers, the raw bytes and where they were saved.

    The full MIME parse waits until a test asks for :attr:`message`: parsing every message on
    arrival cost the sink more than the whole SMTP exchange, and most are only counted by key.
    """

    mail_from: str
    rcpt_tos: tuple[str, ...]
    headers: EmailMessage
    raw: bytes
    path: Path | None

    @cached_property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=default_policy)  # type: ignore[return-value]

    @property
    def key(self) -> str | None:
        return self.headers.get("X-Incontro-Key")

    @property
    def kind(self) -> str | None:
        return self.headers.get("X-Incontro-Kind")


class SinkHandler:
    """aiosmtpd handler: stores messages, counts connections and keys, injects faults on demand."""

    def __init__(self, directory: Path | None, credentials: tuple[str, str] | None = None) -> None:
        self.directory = directory
        self.credentials = credentials
        self.logins = 0
        self.login_failures = 0
        self._lock = threading.Lock()
        self._seq = 0
        self.connections = 0
        self.messages: list[ReceivedMessage] = []
        self.per_key: Counter[str] = Counter()
        self._fail_next: list[tuple[int, str]] = []
        self._rejected: dict[str, tuple[int, str]] = {}
        self._drop_next = 0
        self._drop_stored_next = 0
        self.reply_delay = 0.0
        self.received_event = threading.Condition(self._lock)

    # -- fault injection -------------------------------------------------------------------

    def fail_next(self, n: int = 1, code: int = 451, message: str = "4.3.0 Temporary failure, try again later") -> None:
        """Answer the next ``n`` DATA commands with ``code`` (message not stored)."""
        with self._lock:
            self._fail_next.extend([(code, message)] * n)

    def reject_recipient(self, address: str, code: int = 550, message: str = "5.1.1 Mailbox unavailable") -> None:
        """Refuse RCPT TO for ``address`` (case-insensitive) until :meth:`reset`."""
        with self._lock:
            self._rejected[address.strip().lower()] = (code, message)

    def drop_after_data(self, n: int = 1, *, stored: bool = False) -> None:
        """Close the connection after receiving the next ``n`` messages, without answering.

        With ``stored`` the messages are kept first: the client cannot tell, which is exactly the
        uncertainty a relay that queued the message and then lost the line creates.
        """
        with self._lock:
            if stored:
                self._drop_stored_next += n
            else:
                self._drop_next += n

    def slow_reply(self, seconds: float) -> None:
        """Keep each message, then wait ``seconds`` before answering 250 (a slow relay)."""
        with self._lock:
            self.reply_delay = seconds

    def reset(self) -> None:
        """Forget faults, messages and counters (the saved files stay)."""
        with self._lock:
            self._fail_next.clear()
            self._rejected.clear()
            self._drop_next = 0
            self._drop_stored_next = 0
            self.reply_delay = 0.0
            self.connections = 0
            self.messages.clear()
            self.per_key.clear()

    # -- aiosmtpd hooks --------------------------------------------------------------------

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        """aiosmtpd authenticator: LOGIN/PLAIN against the configured credentials."""
        ok = (
            self.credentials is not None
            and isinstance(auth_data, LoginPassword)
            and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        )
        with self._lock:
            if ok:
                self.logins += 1
            else:
                self.login_failures += 1
        return AuthResult(success=ok, handled=False)

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        """Count client sessions (aiosmtplib greets once per connection)."""
        session.host_name = hostname
        with self._lock:
            self.connections += 1
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        with self._lock:
            refusal = self._rejected.get(address.strip().lower())
        if refusal is not None:
            return f"{refusal[0]} {refusal[1]}"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or (
            envelope.content if isinstance(envelope.content, bytes) else str(envelope.content or "").encode()
        )
        with self._lock:
            if self._drop_next > 0:
                self._drop_next -= 1
                drop = True
            else:
                drop = False
            failure = self._fail_next.pop(0) if (not drop and self._fail_next) else None
        if drop:
            if server.transport is not None:
                server.transport.close()
            return "421 4.3.2 Connection dropped by test sink"
        if failure is not None:
            if failure[0] == 421 and server.transport is not None:  # 421 means "closing": do close
                asyncio.get_running_loop().call_later(0.05, server.transport.close)
            return f"{failure[0]} {failure[1]}"
        seq = self._keep(raw, envelope)
        with self._lock:
            drop_stored = self._drop_stored_next > 0
            if drop_stored:
                self._drop_stored_next -= 1
            delay = self.reply_delay
        if drop_stored:
            if server.transport is not None:
                server.transport.close()
            return "421 4.3.2 Connection dropped by test sink"
        if delay:
            await asyncio.sleep(delay)
        return f"250 2.0.0 Ok: queued as {seq}"

    def _keep(self, raw: bytes, envelope: Envelope) -> int:
        """Save and record one accepted message; returns its sequence number."""
        headers: EmailMessage = BytesHeaderParser(policy=default_policy).parsebytes(raw)  # type: ignore[assignment]
        with self._lock:
            self._seq += 1
            seq = self._seq
        path = self._save(raw, seq, headers.get("X-Incontro-Kind") or "mail")
        received = ReceivedMessage(
            mail_from=str(envelope.mail_from or ""),
            rcpt_tos=tuple(envelope.rcpt_tos),
            headers=headers,
            raw=raw,
            path=path,
        )
        with self._lock:
            self.messages.append(received)
            if received.key:
                self.per_key[received.key] += 1
            self.received_event.notify_all()
        return seq

    def _save(self, raw: bytes, seq: int, kind: str) -> Path | None:
        if self.directory is None:
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        safe_kind = _UNSAFE.sub("_", kind)[:48] or "mail"
        path = self.directory / f"{stamp}-{seq:05d}-{safe_kind}.eml"
        tmp = path.with_suffix(".eml.tmp")
        tmp.write_bytes(raw)
        tmp.replace(path)  # readers never see half a message
        return path


class _SinkController(Controller):
    """aiosmtpd's controller, minus a false alarm: AUTH over implicit TLS *is* encrypted."""

    def __init__(self, *args: Any, quiet_auth_warning: bool = False, **kwargs: Any) -> None:
        self.quiet_auth_warning = quiet_auth_warning
        super().__init__(*args, **kwargs)

    def factory(self) -> SMTP:
        if not self.quiet_auth_warning:
            return super().factory()  # type: ignore[no-any-return]
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
            return super().factory()  # type: ignore[no-any-return]


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS says is free right now (aiosmtpd's controller cannot bind port 0 itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class MailSink:
    """A threaded aiosmtpd server on 127.0.0.1 that keeps what it receives.

    ``starttls`` offers and requires STARTTLS with that server context; ``implicit_tls`` serves
    TLS from the first byte (SMTPS); ``credentials`` (user, password) requires AUTH.
    """

    def __init__(
        self,
        directory: Path | str | None = None,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.port = port
        self.directory = Path(directory) if directory is not None else None
        self.handler = SinkHandler(self.directory, credentials)
        self._controller: Controller | None = None
        self._server_kwargs: dict[str, Any] = {}
        self._implicit_tls_auth = implicit_tls is not None and credentials is not None
        if starttls is not None:
            self._server_kwargs.update(tls_context=starttls, require_starttls=True)
        if implicit_tls is not None:
            self._server_kwargs.update(ssl_context=implicit_tls)
        if credentials is not None:
            self._server_kwargs.update(
                authenticator=self.handler.authenticate,
                auth_required=True,
                auth_require_tls=starttls is not None,
            )

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind and serve in a background thread; returns self for chaining."""
        if self._controller is not None:
            return self
        self.port = self.requested_port or free_port(self.host)
        controller = _SinkController(
            self.handler,
            hostname=self.host,
            port=self.port,
            quiet_auth_warning=self._implicit_tls_auth,
            **self._server_kwargs,
        )
        controller.start()
        self._controller = controller
        _log.info("mail sink listening on %s:%d", self.host, self.port)
        return self

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- what was received -----------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self.handler._lock:
            return list(self.handler.messages)

    @property
    def connections(self) -> int:
        with self.handler._lock:
            return self.handler.connections

    def count_for(self, key: str) -> int:
        with self.handler._lock:
            return self.handler.per_key[key]

    @property
    def per_key(self) -> dict[str, int]:
        with self.handler._lock:
            return dict(self.handler.per_key)

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least ``count`` messages arrived (for callers that send from a thread)."""
        with self.handler.received_event:
            return self.handler.received_event.wait_for(lambda: len(self.handler.messages) >= count, timeout)

    # -- faults (delegated) ----------------------------------------------------------------

    def fail_next(self, n: int = 1, code: int = 451, message: str = "4.3.0 Temporary failure, try again later") -> None:
        self.handler.fail_next(n, code, message)

    def reject_recipient(self, address: str, code: int = 550, message: str = "5.1.1 Mailbox unavailable") -> None:
        self.handler.reject_recipient(address, code, message)

    def drop_after_data(self, n: int = 1, *, stored: bool = False) -> None:
        self.handler.drop_after_data(n, stored=stored)

    def slow_reply(self, seconds: float) -> None:
        self.handler.slow_reply(seconds)

    def reset(self) -> None:
        self.handler.reset()


def main(argv: list[str] | None = None) -> int:
    """Run the sink in the foreground until Ctrl-C / SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m tasks.mail.smtp_sink", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", default=None, help="where to save .eml files (default: settings mail_dir)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs envelope addresses at INFO
    directory = Path(args.dir) if args.dir else _default_mail_dir()
    stop = threading.Event()

    def _on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    with MailSink(directory, port=args.port, host=args.host) as sink:
        _log.info("saving messages to %s (port %d); Ctrl-C to stop", directory, sink.port)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


def _default_mail_dir() -> Path:
    from config.settings import get_settings

    return get_settings().mail_dir


if __name__ == "__main__":
    raise SystemExit(main())
