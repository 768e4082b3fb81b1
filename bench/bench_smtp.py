"""SMTP throughput to a local aiosmtpd: one connection per batch vs one connection per message.

Both sides run in the same run against the same sink (``python -m tasks.mail.smtp_sink`` in its own
process: in-process, its thread would fight the client for the GIL and halve both), interleaved
round by round, so the printed ratios hold on a noisy machine where absolute numbers do not. Two
layers are measured:

- raw aiosmtplib: ``send_message`` on one connection vs ``aiosmtplib.send`` (connect, EHLO,
  send, QUIT) per message;
- the real drain (``tasks.mail.drain.drain_outbox`` on a migrated SQLite file, with its claim and
  record commits): one drain of the whole batch vs one drain per message (``limit=1``).

Run: ``.venv/bin/python -m bench.bench_smtp [--messages 400] [--rounds 3]``. Goal: >= 200 msg/s
for the batched drain.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import aiosmtplib
from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import PROJECT_ROOT, Settings
from models.ops import Outbox
from tasks.mail.drain import drain_outbox
from tasks.mail.message import build_message
from tasks.mail.outbox import enqueue_email
from tasks.mail.smtp_sink import free_port
from tasks.mail.templates import render_email
from tasks.runtime.db import make_engine, migrate

MAIL_FROM = "Incontro al lavoro <noreply@incontro.provincia.bergamo.example>"
CONTEXT = {
    "case_code": "BG-2026-000001",
    "office_name": "CPI Bergamo",
    "office_address": "Via Camozzi 95, Bergamo",
    "appointment_at": datetime(2026, 11, 30, 8, 45, tzinfo=UTC),
}


def messages(n: int) -> list[EmailMessage]:
    """``n`` real appointment emails (rendered once, built per key)."""
    rendered = render_email("intake_appointment_candidate", "it", CONTEXT)
    out = []
    for i in range(n):
        row = Outbox(
            key=f"bench:{i}",
            kind="intake_appointment_candidate",
            recipient=f"person{i}@example.org",
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            created_at=datetime(2026, 11, 1, tzinfo=UTC),
        )
        out.append(build_message(row, mail_from=MAIL_FROM))
    return out


async def raw_batched(port: int, batch: list[EmailMessage]) -> None:
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
    await smtp.connect()
    for msg in batch:
        await smtp.send_message(msg)
    await smtp.quit()


async def raw_per_message(port: int, batch: list[EmailMessage]) -> None:
    for msg in batch:
        await aiosmtplib.send(msg, hostname="127.0.0.1", port=port)


def fill_outbox(engine: Engine, n: int, tag: str) -> None:
    with Session(engine) as session:
        for i in range(n):
            enqueue_email(
                session,
                key=f"bench:{tag}:{i}",
                kind="intake_appointment_candidate",
                recipient=f"person{i}@example.org",
                context=CONTEXT,
            )
        session.commit()


@contextmanager
def sink_process(directory: Path) -> Iterator[int]:
    """``python -m tasks.mail.smtp_sink`` on a free port, stopped (SIGTERM) on exit."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tasks.mail.smtp_sink", "--port", str(port), "--dir", str(directory)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the SMTP sink did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def received_keys(directory: Path) -> list[str]:
    """X-Incontro-Key of every saved message (headers only)."""
    keys = []
    for path in directory.glob("*.eml"):
        head = path.read_bytes().split(b"\r\n\r\n", 1)[0]
        msg = BytesHeaderParser(policy=default_policy).parsebytes(head)
        keys.append(str(msg["X-Incontro-Key"]))
    return keys


CPU: dict[str, list[float]] = {}


def timed(fn: Callable[[], Awaitable[Any]], label: str = "") -> float:
    """Wall seconds of one run; the client's CPU seconds go to ``CPU[label]`` (load-independent)."""
    start, cpu = time.perf_counter(), time.process_time()
    asyncio.run(fn())  # type: ignore[arg-type]
    if label:
        CPU.setdefault(label, []).append(time.process_time() - cpu)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    n, rounds = args.messages, args.rounds
    batch = messages(n)
    results: dict[str, list[float]] = {k: [] for k in ("raw_batch", "raw_each", "drain_batch", "drain_each")}
    with tempfile.TemporaryDirectory(prefix="bench-smtp-") as tmp, sink_process(Path(tmp) / "mail") as port:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate(url)
        engine = make_engine(url)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, smtp_port=port, var_dir=Path(tmp), outbox_batch_size=n, smtp_timeout=10.0
        )
        for r in range(rounds):  # interleaved, so drift and noise hit both sides alike
            results["raw_batch"].append(n / timed(lambda: raw_batched(port, batch), "raw_batch"))
            results["raw_each"].append(n / timed(lambda: raw_per_message(port, batch), "raw_each"))
            fill_outbox(engine, n, f"b{r}")
            results["drain_batch"].append(n / timed(lambda: drain_outbox(engine, settings=settings), "drain_batch"))
            fill_outbox(engine, n, f"e{r}")

            async def one_by_one() -> None:
                for _ in range(n):
                    await drain_outbox(engine, settings=settings, limit=1)

            results["drain_each"].append(n / timed(one_by_one, "drain_each"))
        engine.dispose()
        keys = received_keys(Path(tmp) / "mail")
        expected = rounds * n * 4
        assert len(keys) == expected, f"sink got {len(keys)} of {expected}"
        drained = Counter(k for k in keys if k.startswith(("bench:b", "bench:e")))
        assert len(drained) == 2 * rounds * n and set(drained.values()) == {1}, "the drain duplicated or lost"

    med = {k: statistics.median(v) for k, v in results.items()}
    cpu = {k: n / statistics.median(v) for k, v in CPU.items()}
    print(f"messages per run: {n}, rounds: {rounds} (medians; aiosmtpd on loopback in its own process)")
    print(f"  load average now: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print("                                               wall msg/s   msg per client CPU-second")
    for label, key in (
        ("raw aiosmtplib, one connection per batch  ", "raw_batch"),
        ("raw aiosmtplib, one connection per message", "raw_each"),
        ("drain_outbox, one connection per batch    ", "drain_batch"),
        ("drain_outbox, one drain per message       ", "drain_each"),
    ):
        print(f"  {label}: {med[key]:10.1f}   {cpu[key]:10.1f}")
    print(f"  ratio raw   batch / per message: {med['raw_batch'] / med['raw_each']:.2f}x wall")
    print(f"  ratio drain batch / per message: {med['drain_batch'] / med['drain_each']:.2f}x wall")
    goal = "met" if med["drain_batch"] >= 200 else "NOT met"
    print(f"  goal >= 200 msg/s batched through the drain: {goal}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
