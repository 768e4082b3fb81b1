"""Corpus files about where people live and where positions are (issue 17, last rules): a
referral list with no comune column at all, and a vacancy export whose work sites are written
as Confindustria's members write them. Called by :func:`tests.data.make_corpus.build`;
deterministic like it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from demo.synthetic.common import write_csv

Expect = Callable[..., None]


def build_place_files(corpus: Path, expect: Expect) -> None:
    """Write the files 75-76 into ``corpus`` and declare what the importer must make of each."""
    # 75. A migrants' help desk keeps its own list: who, how to reach them, no comune column
    # (the desk serves whoever walks in). Imported: the cases wait for a CPI, the sender is told.
    header = ["N.", "Cognome", "Nome", "Data di nascita", "Nazionalità", "Telefono", "Consenso privacy"]
    rows = [
        [1, "Tkachenko", "Yuliia", "14/02/1987", "ucraina", "097 772 97 95", "SI"],
        [2, "Camara", "Fatoumata", "02/09/1996", "Guinea", "+224 622 12 34 56", "SI"],
        [3, "Rota", "Giulia", "30/06/1990", "italiana", "347 556 7788", "SI"],
        [4, "Benali", "Youssef", "11/11/1983", "Marocco", "0661 234567", "SI"],
        [5, "Quispe Mamani", "Rosa", "31/04/1992", "Perù", "", "SI"],  # 31 April: no such day
    ]
    write_csv(corpus / "75_sportello_senza_comune.csv", header, rows)
    expect(
        "75_sportello_senza_comune.csv",
        accepted=4,
        rejected=1,
        sender="ASSOC-RIFUGIATI-BG",
        note="no comune column: imported with a notice, the cases wait for a CPI; one impossible date",
    )

    # 76. A member's HR export of open positions: work sites with province suffixes, an
    # abbreviation, a frazione, a plant name and a site outside the province.
    header = ["Ragione sociale", "Mansione", "Sede di lavoro", "Posti", "Scadenza"]
    rows = [
        ["Officine Meccaniche Valseriana S.r.l.", "Operaio metalmeccanico", "Curno (BG)", "3", "31/03/2027"],
        ["Officine Meccaniche Valseriana S.r.l.", "Magazziniere", "Stabilimento di Stezzano", "1", "fino a copertura"],
        ["Orio Hub Logistica srl", "Manutentore elettrico", "Romano di Lomb.", "2", "31/01/2027"],
        ["Orio Hub Logistica srl", "Addetto logistica", "Sforzatica - Dalmine", "1", ""],
        ["Orio Hub Logistica srl", "Carrellista", "Milano (MI)", "1", "30/04/2027"],
    ]
    write_csv(corpus / "76_vac_sedi_scritte_dalle_aziende.csv", header, rows)
    expect(
        "76_vac_sedi_scritte_dalle_aziende.csv",
        kind="vacancy",
        sender="CONFINDUSTRIA-BG",
        accepted=5,
        rejected=0,
        note="work sites as written: '(BG)', 'Stabilimento di', an abbreviation, a frazione, out of province",
    )
