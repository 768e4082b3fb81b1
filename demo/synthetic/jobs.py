"""The job catalogue: how referrers type experiences and how companies title vacancies, in
Italian, Ukrainian and English, and which ISCO-08 occupation each job most likely is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from demo.synthetic.common import norm_label


@dataclass(frozen=True)
class JobKind:
    """One family of jobs, in the words each actor actually uses for it."""

    key: str
    it_m: tuple[str, ...]
    it_f: tuple[str, ...]
    uk_m: tuple[str, ...]
    uk_f: tuple[str, ...]
    en: tuple[str, ...]
    weight_m: float
    weight_f: float
    vacancy_titles: tuple[str, ...]
    skills: tuple[str, ...]
    italian_req: str
    sector_words: tuple[str, ...]


def _jk(
    key: str,
    it: tuple[tuple[str, ...], tuple[str, ...]],
    uk: tuple[tuple[str, ...], tuple[str, ...]],
    en: tuple[str, ...],
    weights: tuple[float, float],
    titles: tuple[str, ...],
    skills: tuple[str, ...],
    italian_req: str,
    sector_words: tuple[str, ...],
) -> JobKind:
    return JobKind(
        key,
        it[0],
        it[1],
        uk[0],
        uk[1],
        en,
        weights[0],
        weights[1],
        titles,
        skills,
        italian_req,
        sector_words,
    )


JOB_KINDS: tuple[JobKind, ...] = (
    _jk(
        "caregiver",
        (
            ("badante", "assistenza anziani"),
            ("badante", "badante convivente", "assistenza anziani"),
        ),
        (("доглядач",), ("доглядальниця",)),
        ("caregiver", "elderly care"),
        (0.2, 1.2),
        ("Assistente familiare", "Badante convivente"),
        ("assistenza alla persona", "igiene personale", "preparazione pasti"),
        "A2",
        ("assisten", "famil", "domest", "care", "sanit", "social"),
    ),
    _jk(
        "cleaner",
        (
            ("addetto pulizie", "pulizie industriali"),
            ("addetta pulizie", "pulizie uffici", "pulizie"),
        ),
        (("прибиральник",), ("прибиральниця",)),
        ("cleaner", "housekeeping"),
        (0.5, 1.2),
        ("Addetto/a pulizie industriali", "Addetto/a pulizie uffici"),
        ("uso lavasciuga", "prodotti detergenti", "disponibilità su turni"),
        "A1",
        ("puliz", "clean", "facility", "serviz", "multiserv"),
    ),
    _jk(
        "metal_worker",
        (
            ("operaio metalmeccanico", "operaio generico", "operaio in fabbrica"),
            ("operaia metalmeccanica", "operaia generica"),
        ),
        (("робітник на заводі",), ("робітниця на заводі",)),
        ("factory worker",),
        (1.0, 0.3),
        ("Operaio/a metalmeccanico/a", "Addetto/a montaggio meccanico"),
        ("lettura disegno tecnico", "uso avvitatore", "lavoro su turni"),
        "A2",
        ("metal", "mecc", "mechan", "automotive", "manifatt", "manufact"),
    ),
    _jk(
        "cnc_operator",
        (("operatore CNC", "tornitore", "fresatore"), ("operatrice CNC",)),
        (("оператор ЧПК", "токар"), ("операторка ЧПК",)),
        ("CNC operator", "machinist"),
        (0.8, 0.1),
        ("Operatore CNC", "Operatore macchine utensili CNC", "Tornitore CNC"),
        ("lettura disegno tecnico", "strumenti di misura", "programmazione ISO base"),
        "B1",
        ("metal", "mecc", "mechan", "automotive", "manifatt", "manufact"),
    ),
    _jk(
        "welder",
        (("saldatore", "saldatore a filo"), ("saldatrice",)),
        (("зварник",), ("зварниця",)),
        ("welder",),
        (0.9, 0.05),
        ("Saldatore TIG", "Saldatore MIG/MAG", "Saldatore a filo"),
        ("saldatura TIG", "saldatura MIG/MAG", "lettura disegno tecnico"),
        "A2",
        ("metal", "mecc", "carpent", "steel", "manufact"),
    ),
    _jk(
        "warehouse",
        (
            ("magazziniere con patentino muletto", "magazziniere", "mulettista"),
            ("magazziniera", "addetta magazzino"),
        ),
        (("комірник", "вантажник"), ("комірниця",)),
        ("warehouse worker", "forklift driver"),
        (1.0, 0.4),
        (
            "Magazziniere carrellista",
            "Addetto/a magazzino",
            "Carrellista con patentino",
        ),
        ("patentino muletto", "uso terminale RF", "picking"),
        "A2",
        ("logist", "magazz", "wareh", "trasport", "distrib", "commerc", "retail"),
    ),
    _jk(
        "kitchen_helper",
        (
            ("aiuto cuoco", "lavapiatti", "aiuto cucina"),
            ("aiuto cuoca", "lavapiatti", "aiuto cucina"),
        ),
        (("помічник кухаря",), ("помічниця кухаря", "посудомийниця")),
        ("kitchen assistant", "dishwasher"),
        (0.7, 0.8),
        ("Aiuto cuoco", "Addetto/a cucina", "Lavapiatti"),
        ("HACCP", "preparazione alimenti", "pulizia cucina"),
        "A1",
        ("ristor", "food", "aliment", "hospit", "alberg", "turis", "catering", "mensa"),
    ),
    _jk(
        "cook",
        (("cuoco",), ("cuoca",)),
        (("кухар",), ("кухарка",)),
        ("cook", "chef"),
        (0.5, 0.5),
        ("Cuoco/a", "Cuoco/a capopartita"),
        ("HACCP", "cucina italiana", "gestione ordini"),
        "A2",
        ("ristor", "food", "aliment", "hospit", "alberg", "turis", "catering", "mensa"),
    ),
    _jk(
        "waiter",
        (("cameriere", "barista"), ("cameriera", "barista")),
        (("офіціант",), ("офіціантка",)),
        ("waiter", "bartender"),
        (0.5, 0.8),
        ("Cameriere/a di sala", "Barista"),
        ("servizio ai tavoli", "caffetteria", "contatto con il pubblico"),
        "B1",
        ("ristor", "hospit", "alberg", "turis", "bar"),
    ),
    _jk(
        "construction",
        (("muratore", "manovale edile", "carpentiere edile"), ("manovale edile",)),
        (("муляр", "будівельник"), ("будівельниця",)),
        ("construction worker", "bricklayer"),
        (1.0, 0.02),
        ("Muratore", "Manovale edile", "Carpentiere edile"),
        ("corso sicurezza cantiere", "lettura progetti", "uso attrezzi edili"),
        "A2",
        ("edil", "costru", "constr", "cantier", "impiant"),
    ),
    _jk(
        "farm_worker",
        (
            ("bracciante agricolo", "raccolta frutta", "operaio agricolo"),
            ("bracciante agricola", "raccolta frutta"),
        ),
        (("сільськогосподарський робітник",), ("працівниця на фермі",)),
        ("farm worker",),
        (0.8, 0.3),
        ("Operaio/a agricolo/a", "Addetto/a serra"),
        ("raccolta", "uso trattore", "lavoro all'aperto"),
        "A1",
        ("agri", "farm", "vivai", "serra", "aliment"),
    ),
    _jk(
        "driver",
        (("autista patente C", "corriere", "autista"), ("autista", "corriera")),
        (("водій",), ("водійка",)),
        ("driver", "delivery driver"),
        (0.7, 0.05),
        ("Autista patente C", "Autista corriere patente B"),
        ("patente C", "CQC", "carta tachigrafica"),
        "A2",
        ("logist", "trasport", "transport", "distrib", "corrier"),
    ),
    _jk(
        "care_assistant",
        (
            ("OSS", "operatore socio sanitario"),
            ("OSS", "operatrice socio sanitaria", "ASA"),
        ),
        (("санітар",), ("медсестра", "санітарка")),
        ("nurse assistant", "care worker"),
        (0.2, 0.7),
        ("OSS", "ASA - Ausiliario/a socio assistenziale", "OSS per RSA"),
        ("qualifica OSS", "assistenza anziani", "lavoro su turni"),
        "B1",
        ("sanit", "health", "rsa", "social", "care", "cooperativ"),
    ),
    _jk(
        "sales_assistant",
        (
            ("commesso", "addetto vendite", "cassiere"),
            ("commessa", "addetta vendite", "cassiera"),
        ),
        (("продавець", "касир"), ("продавчиня", "касирка")),
        ("shop assistant", "cashier"),
        (0.4, 0.8),
        ("Addetto/a vendite", "Cassiere/a"),
        ("uso cassa", "contatto con il pubblico", "gestione scaffali"),
        "B1",
        ("retail", "commerc", "vendit", "gdo", "supermerc"),
    ),
    _jk(
        "assembly",
        (
            ("addetto montaggio", "operaio linea produzione"),
            ("operaia confezionamento", "addetta linea produzione"),
        ),
        (("робітник конвеєра",), ("пакувальниця",)),
        ("assembly line worker", "packer"),
        (0.7, 0.8),
        (
            "Addetto/a linea di produzione",
            "Addetto/a confezionamento",
            "Operaio/a stampaggio plastica",
        ),
        ("lavoro su turni", "controllo qualità visivo", "manualità"),
        "A1",
        (
            "plast",
            "gomma",
            "rubber",
            "tessil",
            "textil",
            "chim",
            "chem",
            "aliment",
            "food",
            "manifatt",
            "manufact",
            "packag",
            "imball",
        ),
    ),
    _jk(
        "electrician",
        (("elettricista", "aiuto elettricista"), ("elettricista",)),
        (("електрик",), ("електрикиня",)),
        ("electrician",),
        (0.5, 0.02),
        ("Elettricista industriale", "Aiuto elettricista"),
        ("impianti civili", "PES/PAV", "lettura schemi elettrici"),
        "B1",
        ("elettr", "electr", "impiant", "edil", "energ"),
    ),
)
JOB_BY_KEY: dict[str, JobKind] = {j.key: j for j in JOB_KINDS}

ORIGIN_JOB_AFFINITY: dict[str, dict[str, float]] = {
    "ukrainian": {
        "caregiver": 1.5,
        "cleaner": 1.5,
        "sales_assistant": 1.2,
        "cook": 1.2,
        "care_assistant": 1.2,
        "welder": 1.0,
        "driver": 1.0,
        "construction": 1.0,
    },
    "italian": {
        "warehouse": 1.3,
        "sales_assistant": 1.4,
        "waiter": 1.2,
        "driver": 1.0,
        "cleaner": 1.0,
    },
    "arabic": {
        "construction": 1.6,
        "warehouse": 1.5,
        "kitchen_helper": 1.4,
        "driver": 1.2,
        "metal_worker": 1.2,
    },
    "west_african": {
        "farm_worker": 1.8,
        "warehouse": 1.5,
        "metal_worker": 1.4,
        "assembly": 1.4,
        "cleaner": 1.2,
        "construction": 1.2,
    },
    "latin_american": {
        "caregiver": 1.6,
        "cleaner": 1.6,
        "care_assistant": 1.3,
        "kitchen_helper": 1.1,
        "construction": 1.1,
    },
}

ISCO_HINTS: dict[str, tuple[str, ...]] = {
    "caregiver": ("5322",),
    "cleaner": ("9112", "9111"),
    "metal_worker": ("9329",),
    "cnc_operator": ("7223",),
    "welder": ("7212",),
    "warehouse": ("4321", "8344", "9333"),
    "kitchen_helper": ("9412",),
    "cook": ("5120",),
    "waiter": ("5131", "5132"),
    "construction": ("7112", "9313"),
    "farm_worker": ("9211",),
    "driver": ("8332", "8322"),
    "care_assistant": ("5321",),
    "sales_assistant": ("5223", "5230"),
    "assembly": ("8219", "9321", "8183"),
    "electrician": ("7411",),
}
"""ISCO-08 unit groups (as in config/occupations.yaml) each catalogue job most likely is."""


def job_key_for_occupation(code: str, labels: Sequence[str] = ()) -> str | None:
    """Map an occupation (code and its labels/synonyms) to the catalogue job it corresponds to."""
    if code in JOB_BY_KEY:
        return code
    for key, codes in ISCO_HINTS.items():
        if code in codes:
            return key
    wanted = {norm_label(x) for x in labels if x}
    best: tuple[int, str] | None = None
    for job in JOB_KINDS:
        texts = {
            norm_label(t)
            for t in (
                *job.it_m,
                *job.it_f,
                *job.uk_m,
                *job.uk_f,
                *job.en,
                *job.vacancy_titles,
            )
        }
        score = 0
        if wanted & texts:
            score = 3
        else:
            for w in wanted:
                if any(len(t) >= 4 and (t in w or w in t) for t in texts):
                    score = max(score, 1)
        if norm_label(job.key.replace("_", " ")) in {norm_label(code.replace("_", " ")), *wanted}:
            score = max(score, 2)
        if score and (best is None or score > best[0]):
            best = (score, job.key)
    return best[1] if best else None
