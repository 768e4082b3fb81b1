"""The vacancy files of the corpus (issue 17), written as Confindustria's office and member
companies send them: each from other software and habits, naming companies as they know them.

Called by :func:`tests.data.make_corpus.build` with its corpus folder and ``expect``; the same
bytes on every run. Deadlines are far in the past (stored closed) or far ahead, so the counts
hold whatever the date: a closed position is stored ("accepted") like an open one, and so is one
whose company waits for the coordinators; only rows with errors are "rejected".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from demo.synthetic.common import write_csv
from demo.synthetic.corpus import write_xlsx

Expect = Callable[..., None]


def build_vacancy_files(corpus: Path, expect: Expect) -> None:
    """Write the vacancy files into ``corpus`` and say what the importer must make of each."""
    _hr_software_export(corpus, expect)
    _confindustria_portal(corpus, expect)
    _company_google_sheet(corpus, expect)
    _cooperative_office(corpus, expect)
    _recruiting_tool_tsv(corpus, expect)
    _two_requirement_columns(corpus, expect)


def _hr_software_export(corpus: Path, expect: Expect) -> None:
    """An HR package's "Esporta CSV": cp1252, ';', legal names in capitals, P.IVA column, a
    "Scadenza contratto" that is not the deadline, "Note" the import does not use."""
    header = [
        "Ragione Sociale", "P.IVA", "Qualifica", "Sede di lavoro", "Requisiti richiesti",
        "Conoscenza lingua italiana", "Patente di guida", "Data scadenza candidatura", "N° posti",
        "Scadenza contratto", "Note",
    ]  # fmt: skip
    rows: list[list[Any]] = [
        ["OFFICINE MECCANICHE VALSERIANA SRL", "86454280164", "Saldatore a filo", "Albino (BG)",
         "saldatura MIG/MAG; lettura disegno", "A2", "B", "31/01/2031", "2", "31/07/2031", "turno centrale"],
        ["STAMPAGGIO PLASTICHE CALEPIO S.R.L.", "", "Addetto pressa ad iniezione", "Grumello d/M",
         "turni 6-14 14-22", "non richiesto", "-", "28/02/2031", "3", "", ""],
        ["GOMMA TECNICA DELL'ISOLA SPA", "IT10366480167", "Operaio stampaggio gomma", "Ponte S.Pietro",
         "", "A1", "nessuna", "fino a copertura", "1", "", "urgente"],
        ["Autotrasporti Alta Brembana snc di Rota & C.", "", "Autista patente C", "Zogno", "CQC, carta tachigrafica",
         "A2", "C", "15/01/2020", "1", "", "chiusa"],  # deadline long past: stored closed
        ["BIANCHI COSTRUZIONI S.R.L.", "00743110157", "Muratore", "Treviglio", "esperienza cantiere", "A2", "B",
         "31/03/2031", "2", "", ""],  # a real VAT of a company that is not a member: waits
        ["COSTRUZIONI EDILI BASSA BERGAMASCA SRL", "05074700161", "", "Treviglio", "", "A2", "", "31/03/2031",
         "1", "", "mansione da definire"],  # no title: refused
        ["Elettroimpianti Val Cavallina", "", "Elettricista", "Trescore B.rio", "impianti civili, PES/PAV",
         "B1", "B automunito", "30.04.2031", "1", "", ""],
    ]  # fmt: skip
    write_csv(corpus / "50_vac_gestionale_hr_cp1252.csv", header, rows, encoding="cp1252")
    expect(
        "50_vac_gestionale_hr_cp1252.csv",
        kind="vacancy",
        sender="CONFINDUSTRIA-BG",
        accepted=6,
        rejected=1,
        note="HR software export: company names in capitals, P.IVA column, a non-member waits, a past "
        "deadline is stored closed, no job title refused",
    )


def _confindustria_portal(corpus: Path, expect: Expect) -> None:
    """Confindustria's members portal XLSX: a title block, "Azienda associata", VAT in a number
    cell (the leading zero lost), two requirement columns, real dates, levels as ranges."""
    header = [
        "Azienda associata", "Partita IVA", "Figura professionale", "Comune sede", "Competenze richieste",
        "Competenze tecniche", "Livello QCER italiano", "Patente", "Contratto offerto", "Posizioni aperte",
        "Scadenza annuncio",
    ]  # fmt: skip
    rows: list[list[Any]] = [
        ["Caseificio Pianalto delle Orobie S.r.l.", 6590500168, "Casaro", "San Giovanni Bianco",
         "lavorazione latte", "HACCP", "A2/B1", "B", "tempo determinato 12 mesi", 1, date(2031, 1, 31)],
        ["Forno del Serio", None, "Panettiere", "Romano di Lomb.", "turni notturni", None, "non richiesto",
         None, "apprendistato", 2, date(2031, 2, 28)],
        ["Tessitura Valgandino S.p.A. - stabilimento di Gandino", 44170990160, "Addetto telai",
         "Gandino", None, "cambio articolo", "base", None, "somministrazione", 3, datetime(2031, 3, 15, 0, 0)],
        ["Azienda Agricola Cascina Fontanile", None, "Operaio agricolo", "Caravaggio", "uso trattore",
         None, "-", "B", "stagionale", 4, date(2019, 6, 30)],  # closed
        ["Supermercati Orobici", 26796230162, "Addetto scaffalature", "Stezzano", None, None, "A2",
         None, "part-time", "da definire", date(2031, 1, 31)],  # openings in words: refused
    ]  # fmt: skip
    title = ["Confindustria Bergamo - Area Lavoro - Posizioni aperte delle associate"]
    write_xlsx(
        corpus / "51_vac_confindustria_portale.xlsx",
        [title, ["Estrazione del portale associati"], [], header, *rows],
        merges=["A1:K1"],
        bold_rows=[4],
        date_cols=[11],
        sheet="Posizioni aperte",
    )
    expect(
        "51_vac_confindustria_portale.xlsx",
        kind="vacancy",
        sender="CONFINDUSTRIA-BG",
        accepted=4,
        rejected=1,
        note="members portal XLSX: title block, VAT in number cells, two requirement columns, A2/B1, "
        "a closed position, openings 'da definire' refused",
    )


def _company_google_sheet(corpus: Path, expect: Expect) -> None:
    """A member company sends its own list from a shared spreadsheet: ',' and UTF-8, English
    headers, English and Italian date styles, the store after the company name."""
    header = [
        "Company", "VAT number", "Job title", "Work location", "Requirements", "Italian level",
        "Driving licence", "Contract type", "Openings", "Application deadline",
    ]  # fmt: skip
    rows = [
        ["Supermercati Orobici spa - punto vendita Stezzano", "IT 26796230162", "Cassiere/a", "Stezzano",
         "cash handling, customer care", "B1", "not required", "part-time 24h", "2", "31-Jan-2031"],
        ["Supermercati Orobici S.p.A.", "", "Addetto banco gastronomia", "Stezzano", "HACCP",
         "basic", "", "full-time", "1", "January 31, 2031"],
        ["Supermercati Orobici", "26796230162", "Magazziniere notturno", "Stezzano (BG)", "forklift licence",
         "not required", "forklift", "night shifts", "3 positions", "2031-02-28"],
        ["SUPERMERCATI OROBICI SPA", "", "Scaffalista", "Stezzano", "", "A1", "", "seasonal", "1",
         "31/12/2018"],  # closed
    ]  # fmt: skip
    write_csv(corpus / "52_vac_azienda_google_sheet.csv", header, rows, delimiter=",", newline="\n")
    expect(
        "52_vac_azienda_google_sheet.csv",
        kind="vacancy",
        sender="COMP-SUPERMERCATI-OROBICI",
        accepted=4,
        rejected=0,
        note="a member sends its own list: ',' UTF-8, English headers, '31-Jan-2031' and 'January 31, "
        "2031', VAT with IT prefix, the store after the name",
    )


def _cooperative_office(corpus: Path, expect: Expect) -> None:
    """A social cooperative's office XLSX: "Denominazione", "Soc. Coop." abbreviations, a typo,
    level words, month names, a company that could be two members, an unknown licence."""
    header = [
        "Denominazione", "Profilo", "Località", "Requisiti", "Italiano", "Patente", "Tipo di contratto",
        "N. risorse", "Valida fino al",
    ]  # fmt: skip
    rows = [
        ["Coop. Soc. Curainsieme a r.l. Onlus", "Operatore socio-sanitario", "Seriate", "attestato OSS",
         "buono", "B", "CCNL cooperative sociali", 2, "31 gennaio 2031"],
        ["Curainseme Cooperativa Sociale", "Ausiliario di assistenza", "Seriate", "", "sufficiente",
         "automunito", "tempo indeterminato", 1, "fine febbraio 2031"],  # a typo in the name
        ["Orobie Servizi Pulizie soc. coop.", "Addetto pulizie", "Dalmine", "", "nessuno", "non richiesta",
         "part-time", 4, "15-mar-31"],
        ["Cooperativa Orobie", "Addetto pulizie uffici", "Bergamo", "", "A1", "", "part-time", 2,
         "31/03/2031"],  # could be several members: waits for the coordinators
        ["Orobie Servizi Pulizie Società Cooperativa", "Autista furgone", "Dalmine", "", "A2",
         "patente nautica", "", 1, ""],  # unknown licence: refused
    ]  # fmt: skip
    write_xlsx(corpus / "53_vac_cooperativa_ufficio.xlsx", [header, *rows], bold_rows=[1], sheet="Ricerche")
    expect(
        "53_vac_cooperativa_ufficio.xlsx",
        kind="vacancy",
        sender="CONFINDUSTRIA-BG",
        accepted=4,
        rejected=1,
        note="cooperative's XLSX: 'Soc. Coop. a r.l.', a typo in the name, level words, month names, "
        "an ambiguous company waits, unknown licence refused",
    )


def _recruiting_tool_tsv(corpus: Path, expect: Expect) -> None:
    """A recruiting tool's tab-separated export: its own headers, ISO and Excel-serial dates,
    the VAT inside the company cell, a company with no name (VAT only)."""
    header = [
        "Employer Name", "Position", "Location", "Required Skills", "Italian", "Licence", "Contract",
        "Headcount", "Closing Date",
    ]  # fmt: skip
    rows = [
        ["Elettroimpianti Val Cavallina srl (P.IVA 02345670166)", "Elettricista industriale", "Trescore Balneario",
         "PLC, quadri elettrici", "A2", "B", "full time", "1", "2031-05-31"],
        ["IT86454280164", "Tornitore CNC", "Albino", "tornio CNC Fanuc", "A2", "B", "full time", "2",
         "2031-04-30 00:00:00"],
        ["Orio Hub", "Carrellista", "Orio al Serio", "patentino carrello", "A1", "forklift", "agency",
         "5", "47118"],  # an Excel serial that lost its format (31/12/2028)
        ["Logistica Rossi srl", "Magazziniere", "Bergamo", "", "A1", "", "agency", "2", "2031-01-31"],  # waits
        ["Albergo del Colle", "Cameriere di sala", "Bergamo", "inglese", "B1", "", "seasonal", "1", "2018-09-30"],
    ]  # fmt: skip
    write_csv(corpus / "54_vac_ats_export.tsv", header, rows, delimiter="\t", newline="\n", encoding="utf-8")
    expect(
        "54_vac_ats_export.tsv",
        kind="vacancy",
        sender="CONFINDUSTRIA-BG",
        accepted=5,
        rejected=0,
        note="recruiting tool TSV: VAT inside the company cell, a VAT alone, short names, an Excel serial "
        "date, an unknown company waits, a past deadline closed",
    )


def _two_requirement_columns(corpus: Path, expect: Expect) -> None:
    """A small company's hand-made list: "Requisiti" and "Competenze" both, "Automunito" SI/NO,
    "Lingua italiana", deadlines with "entro il" and a time, a row of notes under the table."""
    header = ["Azienda", "Mansione", "Requisiti", "Competenze", "Lingua italiana", "Automunito", "Scadenza"]
    rows = [
        ["Stampaggio Plastiche Calepio", "Attrezzista stampi", "esperienza 2 anni", "lettura disegno, calibro",
         "A2 minimo", "SI", "entro il 31/01/2031"],
        ["Stampaggio Plastiche Calepio", "Addetto controllo qualità", "diploma tecnico", "", "B1",
         "NO", "31/01/2031 ore 12:00"],
        ["Stampaggio Plastiche Calepio", "Manutentore", "", "elettromeccanica", "non necessario", "SI",
         "scade il 28.02.2031"],
        ["Stampaggio Plastiche Calepio", "Magazziniere", "", "", "", "forse", "31/03/2031"],  # refused
    ]  # fmt: skip
    write_csv(corpus / "55_vac_requisiti_competenze.csv", header, rows, encoding="utf-8-sig")
    expect(
        "55_vac_requisiti_competenze.csv",
        kind="vacancy",
        sender="COMP-STAMPAGGIO-CALEPIO",
        accepted=3,
        rejected=1,
        note="hand-made list: two requirement columns, Automunito SI/NO, 'entro il', a time after the "
        "date; 'forse' as licence refused",
    )
