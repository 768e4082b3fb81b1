"""``incontro outbox``: the coordinators' view of outgoing email and the resend of failed ones.

The terminal shows row numbers, kinds, case codes, organisation codes, states, reasons and dates:
never an address, a subject or a body (they may carry names). A resend puts failed rows back in
the queue with the same Message-ID and writes an audit row each (docs/ARCHITECTURE.md#mail).
"""

from __future__ import annotations

import argparse
from datetime import datetime

from cli.main import CliError, actor_name, out

LIST_LIMIT = 200


def _when(moment: datetime | None) -> str:
    """dd/mm/yyyy HH:MM in Rome time, or a dash."""
    from models.clock import in_rome

    return in_rome(moment).strftime("%d/%m/%Y %H:%M") if moment else "—"


def _recipient(recipient_code: str | None, kind: str) -> str:
    """The organisation code, or "persona" for mail to a candidate (whose address stays hidden)."""
    from tasks.mail.templates import KINDS

    if recipient_code:
        return recipient_code
    spec = KINDS.get(kind)
    return "persona" if spec is not None and spec.audience == "candidate" else "—"


def _check_kind(kind: str | None) -> None:
    from tasks.mail.templates import KINDS

    if kind is not None and kind not in KINDS:
        raise CliError(f"tipo sconosciuto «{kind}»; validi: {', '.join(sorted(KINDS))}")


def _row_id(text: str) -> int:
    if not text.isdigit():
        raise CliError(f"numero di email non valido «{text}»: usare il numero (n.) di «incontro outbox list»")
    return int(text)


def cmd_list(args: argparse.Namespace) -> int:
    """Outgoing email filtered by state, kind and case, newest last; the relay's outage if any."""
    from sqlmodel import Session, col, select

    from models.enums import OutboxStatus
    from models.ops import Outbox
    from tasks.mail.outage import down_relays
    from tasks.mail.outbox import STATUS_LABELS, reason_label
    from tasks.runtime.db import get_engine

    query = select(Outbox).order_by(col(Outbox.id).desc())
    if args.state:
        try:
            query = query.where(col(Outbox.status) == OutboxStatus(args.state))
        except ValueError:
            valid = ", ".join(s.value for s in OutboxStatus)
            raise CliError(f"stato sconosciuto «{args.state}»; validi: {valid}") from None
    _check_kind(args.kind)
    if args.kind:
        query = query.where(col(Outbox.kind) == args.kind)
    if args.case:
        query = query.where(col(Outbox.case_code) == args.case)
    if args.limit < 1:
        raise CliError("--limit deve essere almeno 1")
    with Session(get_engine()) as session:
        rows = list(reversed(session.exec(query.limit(args.limit + 1)).all()))
        outages = down_relays(session)
    for relay in outages:
        out(
            f"Attenzione: il server di posta {relay.relay} non risponde dal {_when(relay.down_since)} "
            f"({relay.failed_probes} tentativi di connessione). Le email in attesa partiranno al suo "
            "ritorno, senza consumare tentativi."
        )
    more = len(rows) > args.limit
    rows = rows[-args.limit :]
    out(
        f"{'n.':>5} {'tipo':<30} {'pratica':<15} {'destinatario':<16} {'stato':<12} {'tent.':>5} "
        f"{'creata':<16} {'ultimo invio':<16} motivo"
    )
    for r in rows:
        out(
            f"{r.id:>5} {r.kind:<30} {r.case_code or '—':<15} {_recipient(r.recipient_code, r.kind):<16} "
            f"{STATUS_LABELS[r.status]:<12} {r.attempts:>5} {_when(r.created_at):<16} "
            f"{_when(r.sent_at or r.sending_at):<16} {reason_label(r)}"
        )
    out(f"({len(rows)} email{'; ce ne sono altre più vecchie: aumentare --limit' if more else ''})")
    failed = [r for r in rows if r.status == OutboxStatus.FAILED]
    if failed:
        out("Per i dettagli: incontro outbox show <n.>; per rispedire: incontro outbox resend <n.> …")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """One row without its address, subject or body: what happened to it and what to do."""
    from sqlmodel import Session, func, select

    from models.enums import OutboxStatus
    from models.ops import Outbox, OutboxAttachment
    from tasks.mail.outbox import STATUS_LABELS, public_text, reason_label
    from tasks.runtime.db import get_engine

    row_id = _row_id(args.id)
    with Session(get_engine()) as session:
        row = session.get(Outbox, row_id)
        if row is None:
            raise CliError(f"email {row_id} inesistente")
        attachments = session.exec(
            select(func.count()).select_from(OutboxAttachment).where(OutboxAttachment.outbox_id == row_id)
        ).one()
    fields = [
        ("tipo", row.kind),
        ("chiave", row.key),
        ("pratica", row.case_code or "—"),
        ("destinatario", _recipient(row.recipient_code, row.kind) + " (indirizzo non mostrato)"),
        ("lingua", row.language),
        ("stato", STATUS_LABELS[row.status]),
        ("motivo", reason_label(row) or "—"),
        ("tentativi", str(row.attempts)),
        ("creata", _when(row.created_at)),
        ("ultimo invio", _when(row.sending_at)),
        ("prossimo tentativo", _when(row.next_attempt_at) if row.status == OutboxStatus.PENDING else "—"),
        ("inviata", _when(row.sent_at)),
        ("coordinatori avvisati", _when(row.alerted_at)),
        ("consenso verificato all'invio", "sì" if row.consent_purpose else "non richiesto"),
        ("allegati", str(attachments)),
        ("Message-ID", row.message_id or "(assegnato al primo invio)"),
        ("errore tecnico", public_text(row, row.last_error) or "—"),
        ("risposta del server", public_text(row, row.server_reply) or "—"),
    ]
    out(f"Email n. {row.id}")
    width = max(len(name) for name, _ in fields)
    for name, value in fields:
        out(f"  {name + ':':<{width + 1}} {value}")
    if row.status == OutboxStatus.FAILED:
        out(f"Per rimetterla in coda: incontro outbox resend {row.id}")
    return 0


def cmd_resend(args: argparse.Namespace) -> int:
    """Failed emails (by number or by kind) back in the queue, same Message-ID, audited."""
    from sqlmodel import Session

    from tasks.mail.outbox import ResendRefused, resend_failed
    from tasks.runtime.db import get_engine

    ids = [_row_id(text) for text in args.ids]
    if bool(ids) == bool(args.kind):
        raise CliError("indicare i numeri delle email (incontro outbox resend 12 15) oppure --kind TIPO, non entrambi")
    _check_kind(args.kind)
    actor = actor_name(args.actor)
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            result = resend_failed(session, actor=actor, ids=ids, kind=args.kind)
        except ResendRefused as exc:
            session.rollback()
            raise CliError(f"nessuna email rimessa in coda: {exc}") from None
        session.commit()
    if not result.requeued:
        out(f"nessuna email non riuscita di tipo {args.kind}: niente da rispedire")
        return 0
    numbers = ", ".join(str(r.id) for r in result.requeued)
    out(f"{len(result.requeued)} email rimesse in coda (n. {numbers}), registrato a nome di {actor}.")
    out("Partiranno al prossimo svuotamento della coda (entro 5 minuti), con lo stesso Message-ID del primo invio.")
    if result.uncertain:
        out(
            f"Attenzione: esito incerto per {result.uncertain} di queste; chi le avesse già ricevute "
            "riconosce il doppione dal Message-ID."
        )
    if result.readdressed:
        out(f"{result.readdressed} indirizzi aggiornati dall'anagrafica dei partner.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``incontro outbox list|show|resend`` to the main parser's subcommands."""
    parser = sub.add_parser("outbox", help="email in uscita: elenco, dettaglio, rispedizione / outgoing email")
    commands = parser.add_subparsers(dest="outbox_command", required=True)
    p = commands.add_parser("list", help="elenco delle email / list emails")
    p.add_argument("--state", help="pending | sending | sent | failed | cancelled")
    p.add_argument("--kind", help="tipo, es. intake_appointment_candidate")
    p.add_argument("--case", help="codice pratica, es. BG-2026-000123")
    p.add_argument("--limit", type=int, default=LIST_LIMIT, help=f"quante, le più recenti (predefinito {LIST_LIMIT})")
    p.set_defaults(fn=cmd_list)
    p = commands.add_parser("show", help="dettaglio di un'email senza dati personali / one email")
    p.add_argument("id", help="numero dell'email (colonna n. di list)")
    p.set_defaults(fn=cmd_show)
    p = commands.add_parser("resend", help="rimette in coda email non riuscite / resend failed emails")
    p.add_argument("ids", nargs="*", help="numeri delle email (colonna n. di list)")
    p.add_argument("--kind", help="tutte le email non riuscite di questo tipo")
    p.add_argument("--actor", help="chi rispedisce (predefinito: l'utente del sistema)")
    p.set_defaults(fn=cmd_resend)
