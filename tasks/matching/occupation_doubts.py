"""The words of job titles: their comparable form, and why the occupation coder doubts a best code.

Titles and labels are normalised alike (``normalize_title``): case, accents of Latin letters,
gender variants ("addetto/a"), abbreviations ("op.", "dott.ssa"), boilerplate ("con esperienza",
"cercasi") and context that names no job (years and periods, the employer after "presso" or a
legal form, shifts, zones, pay bands and grades) are folded away; ``split_titles`` lists the
titles a text names. See docs/ARCHITECTURE.md#matching (issue 21).

A fuzzy score says how alike a title and a label are, not whether the words they share are the
ones that name the job. After scoring, the title is compared word by word with the label that
gave the best code its score; the coder says it is unsure (the operator picks among the top 3)
when:

* a word of the title that the label does not explain is a word the taxonomy uses for one of
  the other candidates ("rubber production operator" → "production operator": "rubber" names
  the rubber-products operators);
* the title and the label share only generic words, used by the labels of many unit groups
  ("meat processing worker" → "roofing worker" share only "worker"), or no word at all;
* the label is narrower than the title: it says a specific word the title does not say
  ("construction worker" → "skilled construction worker");
* the title says no trade at all: every word of it is a word for "a worker", "a driver", "a
  technician" or a setting ("operaio generico", "factory worker", "різноробочий", "водій"), even when
  a label says just those words: the operator asks which trade, licence or level;
* the title is one word the labels know only by its spelling: a typo ("magaziniere") or another
  job that happens to look alike ("fiorista" / "frigorista").

How sure a best code is (``confidence``: score and margin over the runner-up) lives here too.
A Ukrainian title typed in Latin letters ("medsestra", "zvaryuvalnyk") is read back into Cyrillic
(``to_cyrillic``) when the Latin labels know nothing like it.

Words are compared by a light stem (Italian and English endings, Ukrainian/Russian case endings,
feminine forms such as "operatrice"/"operatore", "вчителька"/"вчитель", "працівниця"/"працівник"),
by spelling (typos) and across compounds ("lava piatti" / "lavapiatti").
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from itertools import pairwise

from rapidfuzz import fuzz, process

__all__ = [
    "CONFIRM_BELOW",
    "DOUBT_POINTS",
    "GENERIC_CODES",
    "MIN_MARGIN",
    "VAGUE_WORDS",
    "Lexicon",
    "common_prefix",
    "confidence",
    "doubt",
    "is_cyrillic",
    "normalize_title",
    "same_word",
    "split_titles",
    "titles_of",
    "to_cyrillic",
    "vague",
    "why_unsure",
    "word_stem",
]

# --- title normalisation ------------------------------------------------------------------------

_CYR_RE = re.compile(r"[\u0400-\u04ff]")
_PARENS_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_GENDER_SUFFIX_RE = re.compile(r"\b(\w{3,})/(a|e|i|o|essa|esse|trice|trici|ice|ia|ie|ka|ca)\b")
_GENDER_FULL_RE = re.compile(r"\b(\w{3,})/(\w{3,})\b")
_SEX_MARK_RE = re.compile(
    r"\b(?:m|f|h|w|uomo|donna)\s*/\s*(?:m|f|h|w|uomo|donna)\b|\b(?:per\s+)?(?:uomo\s+(?:e\s+)?donna|donna\s+(?:e\s+)?uomo)\b"
)
_NOISE_RE = re.compile(
    r"\b(?:con|senza|anche|minima|prima|breve|comprovata|pluriennale|esperienza)\s+"
    r"(?:prima\s+)?esperienz\w*(?:\s+(?:nel|nella|in|come)\s+\w+)?"
    r"|\besperienza\b|\bcon\s+patentino\b|\bpatentino\b"
    r"|\bcercasi\b|\bsi\s+cerca\b|\bcerchiamo\b|\burgente\b|\bfull[\s-]*time\b|\bpart[\s-]*time\b"
    r"|\bjunior\b|\bsenior\b|\bwith\s+experience\b|\bexperienced\b"
    r"|\bз\s+досвідом(?:\s+роботи)?\b|\bбез\s+досвіду(?:\s+роботи)?\b"
    # a past job is still the job: "ex ragioniera", "former teacher", "колишня вчителька"
    r"|\bex\b|\bgi[aà]\b|\bformer(?:ly)?\b|\bprevious(?:ly)?\b|\bworked\s+as(?:\s+an?)?\b"
    r"|\bho\s+lavorato\s+come\b|\blavoravo\s+come\b|\bколишн\w*|\bбывш\w*|\bпрацюва\w*(?:\s+як)?"
    r"|\bработал\w*|\b(?:in|a)\s+ucraina\b|\bin\s+ukraine\b|\bв\s+украї?ні\b|\bв\s+украине\b"
    r"|\b(?:for\s+)?\d+\s+(?:years?|anni|anno|років|роки|рік|лет|года)\b|\b\d+\b"
)
#: Where and when, not what: periods and years ("2015-2019", "10 yrs"), the employer after "presso"
#: or a legal form (S.p.A., Ltd, ТОВ «…»), shifts, zones, pay bands and grades ("5 розряду").
_CONTEXT_RE = re.compile(
    r"\b(?:presso|c/o)\s+[^,;()]*|\b(?:in\s+)?zona\s+\w+|\bband\s*\d+\w?\b"
    r"|\b(?:19|20)\d\d\s*(?:[-–—/]\s*(?:(?:19|20)?\d\d|oggi|present|now|today|нині|н\.?\s?в)\b\.?)?"
    r"|(?<!\w)(?:s\.p\.a|s\.r\.l|s\.n\.c|s\.a\.s|srl|snc|ltd|llc|gmbh|inc|тов|тзов|пп|фоп|ооо|пат|прат)\b\.?"
    r"\s*(?:«[^»]*»|\"[^\"]*\"|“[^”]*”)?|\b(?:su\s+|a\s+|per\s+|on\s+)?(?:\d+\s+)?(?:turni|shifts?)\b|\bturnista\b"
    r"|\b\d+(?:-?\w{1,3})?\s+(?:розряд\w*|разряд\w*|категорі\w*|класу)\b|\b(?:розряд\w*|разряд\w*)\s+\d+\b"
    r"|\b\d+\+?\s*(?:yrs?|mesi|mese|months?|місяц\w*|месяц\w*)\b|\b(?:exp|experience)\b"
)
#: A driving licence category typed in Cyrillic letters ("категорії С") is the Latin one.
_CATEGORY_RE = re.compile(r"\b(категор\w*|кат\.?)\s+([авсдеabcde]{1,2}1?)\b")
_LATIN_CATEGORY = str.maketrans("авсде", "abcde")
#: Abbreviations of professional titles as Italian forms and CVs write them ("ing. meccanico",
#: "dott.ssa in economia", "op. CNC"); the ambiguous ones only with their dot.
_ABBREVIATIONS = dict(
    pair.split("=")
    for pair in "dottssa=dottoressa profssa=professoressa dott=dottore prof=professore ing=ingegnere "
    "geom=geometra avv=avvocato arch=architetto rag=ragioniere op=operatore add=addetto resp=responsabile "
    "impieg=impiegato".split()
)
_ABBREV_RE = re.compile(
    r"(?<![\w.])(dott\.?\s?ssa|prof\.?\s?ssa|(?:dott|prof|ing|geom|avv)\.?|(?:arch|rag|op|add|resp|impieg)\.)(?!\w)"
)


def _expand(m: re.Match[str]) -> str:
    return " " + _ABBREVIATIONS[re.sub(r"[.\s]", "", m.group(1))] + " "


_PUNCT_RE = re.compile(r"[^\w\s]+|_")
_SPLIT_RE = re.compile(r"\s*[,;/|+]\s*|\s+(?:e|ed|oppure|o|and|or|та|і|й|и|або)\s+")


def _strip_latin_accents(text: str) -> str:
    """Drop accents from Latin letters only: NFD would turn Cyrillic "й" into "и" + breve."""
    out: list[str] = []
    for ch in text:
        if _CYR_RE.match(ch):
            out.append(ch)
            continue
        out.extend(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return "".join(out)


def _clean(text: str) -> str:
    """Casefold, drop parentheses, gender variants and boilerplate; keep word order."""
    text = unicodedata.normalize("NFC", text).casefold().replace("’", "'")
    text = _PARENS_RE.sub(" ", text)
    text = _CATEGORY_RE.sub(lambda m: f"{m.group(1)} {m.group(2).translate(_LATIN_CATEGORY)}", text)
    text = _CONTEXT_RE.sub(" ", text)
    text = _ABBREV_RE.sub(_expand, text)
    text = _SEX_MARK_RE.sub(" ", text)
    text = _GENDER_SUFFIX_RE.sub(r"\1", text)

    def _full(m: re.Match[str]) -> str:
        a, b = m.group(1), m.group(2)
        shared = len(common_prefix(a, b))
        return a if shared >= 3 and shared >= min(len(a), len(b)) - 4 else m.group(0)

    text = _GENDER_FULL_RE.sub(_full, text)
    return _NOISE_RE.sub(" ", text)


_CYR_APOSTROPHE_RE = re.compile(r"(?<=[\u0400-\u04ff])'(?=[\u0400-\u04ff])")


def _finish(text: str) -> str:
    # Ukrainian writes the apostrophe inside a word ("м'ясо"); Italian elides across words ("d'ufficio").
    text = _strip_latin_accents(_CYR_APOSTROPHE_RE.sub("", text)).replace("'", " ")
    text = _PUNCT_RE.sub(" ", text)
    return " ".join(masculine(w) for w in text.split())


def normalize_title(text: str | None) -> str:
    """Comparable form of a job title or label (see ``_clean``); empty for empty input."""
    if not text:
        return ""
    return _finish(_clean(text))


def split_titles(text: str | None) -> list[str]:
    """Normalised titles a free text may list ("saldatore, carpentiere e gruista").

    Splitting happens after gender variants are folded, so "addetto/a" is not split.
    """
    return titles_of(text)[1]


def titles_of(text: str | None) -> tuple[str, list[str]]:
    """``normalize_title`` and ``split_titles`` of one text, cleaned once."""
    if not text:
        return "", []
    cleaned = _clean(text)
    parts = (_finish(p) for p in _SPLIT_RE.split(cleaned))
    return _finish(cleaned), [p for p in parts if len(p) >= 3]


def is_cyrillic(text: str) -> bool:
    return bool(_CYR_RE.search(text))


#: A word found in the labels of this many unit groups or more says little about the job
#: ("operatore", "worker", "assistente", "працівник"). Chosen on the dev half of the labelled titles.
GENERIC_CODES = 15
_SPELLING = 85  # fuzz.ratio from which two words are the same word misspelt
_PREFIX = 6  # letters two derived words share at least ("domicilio"/"domiciliare")

_LATIN_FEMININE = (
    (re.compile(r"trice$"), "tore"),
    (re.compile(r"trici$"), "tori"),
    (re.compile(r"(or|ent)ess[ae]$"), r"\1e"),
)
_LATIN_ENDING = re.compile(r"(?:(?<=[^s])s$|(?<=..)(?:ing|er)s?$|[aeiou]+$)")
_CYR_FEMININE = (
    (re.compile(r"ниц[яіи]$"), "ник"),
    (re.compile(r"(?<=[лн])ьк[аиі]$"), "ь"),
    (re.compile(r"(ор|ер|іст|ист)к[аиі]$"), r"\1"),
)
_CYR_ENDING = re.compile(r"(?:ами|ями|ові|еві|єві|ою|ею|ого|ому|ими|их|ій|ий|ів|ах|ях|ам|ям|ом|ем|[аяуюіїиоеєьй])$")


#: Below this confidence the best code is only a suggestion: the operator picks among the top 3.
#: Chosen on the dev half of tests/data/job_titles_labelled.csv (bench/bench_occupations.py):
#: at most about 1% of the titles of any language come back sure and wrong there.
CONFIRM_BELOW = 85.0
#: A best code the words of its title cast a doubt on (``occupation_doubts.doubt``) comes this many
#: points under ``CONFIRM_BELOW``: the operator confirms it, as with a close runner-up.
DOUBT_POINTS = 5.0
#: A best code less than this many points ahead of the runner-up is a choice, however high its
#: score: "carpentiere" fits the metal (7214) and the building (7115) trade, "operatore" anything.
MIN_MARGIN = 6.0


def confidence(candidates: Sequence[tuple[str, float]]) -> float:
    """How sure the coder is of its best candidate, on the score's 0-100 scale.

    The best score, capped at ``CONFIRM_BELOW`` minus the points the margin over the runner-up
    lacks: it reaches ``CONFIRM_BELOW`` only when the best score does and the margin is at least
    ``MIN_MARGIN``. A tie is never sure.
    """
    if not candidates:
        return 0.0
    best = candidates[0][1]
    margin = best - (candidates[1][1] if len(candidates) > 1 else 0.0)
    if margin >= MIN_MARGIN:
        return round(best, 1)
    return round(max(0.0, min(best, CONFIRM_BELOW - (MIN_MARGIN - margin))), 1)


def why_unsure(candidates: Sequence[tuple[str, float]]) -> str:
    """The reason ``confidence`` gives less than ``CONFIRM_BELOW``, in Italian (empty when sure)."""
    if not candidates:
        return "nessuna professione somiglia al testo"
    if candidates[0][1] < CONFIRM_BELOW:
        return "il testo somiglia poco alle professioni note"
    if len(candidates) > 1 and candidates[0][1] - candidates[1][1] < MIN_MARGIN:
        return f"le professioni {candidates[0][0]} e {candidates[1][0]} sono quasi alla pari"
    return ""


def masculine(word: str) -> str:
    """The masculine form of a feminine job noun ("operatrice", "professoressa", "вчителька",
    "працівниця", "операторка"); other words unchanged."""
    for pattern, repl in _CYR_FEMININE if _CYR_RE.search(word) else _LATIN_FEMININE:
        word = pattern.sub(repl, word)
    return word


def word_stem(word: str) -> str:
    """The word without its inflection and feminine ending, for comparison only."""
    cyrillic = bool(_CYR_RE.search(word))
    stem = word
    for pattern, repl in _CYR_FEMININE if cyrillic else _LATIN_FEMININE:
        stem = pattern.sub(repl, stem)
    stem = (_CYR_ENDING if cyrillic else _LATIN_ENDING).sub("", stem)
    return stem if len(stem) >= 3 else word


def same_word(a: str, b: str) -> bool:
    """One word in two forms: equal, same stem or misspelt (long enough for spelling to tell)."""
    return _same_form(a, b) or (min(len(a), len(b)) >= 3 and fuzz.ratio(a, b) >= _SPELLING)


def _same_form(a: str, b: str) -> bool:
    """Equal, same stem or derived ("domicilio"/"domiciliare", "magazzino"/"magazziniere")."""
    if a == b or word_stem(a) == word_stem(b):
        return True
    shared = len(common_prefix(a, b))
    return shared >= _PREFIX and shared >= 0.6 * min(len(a), len(b))


def common_prefix(a: str, b: str) -> str:
    """The longest start ``a`` and ``b`` share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return a[:n]


def _covered(words: Sequence[str], other: Sequence[str]) -> set[int]:
    """Indexes of ``words`` that ``other`` says too, a compound counting for its two halves."""
    joined = [a + b for a, b in pairwise(other)]
    got: set[int] = set()
    for i, word in enumerate(words):
        if any(same_word(word, x) for x in other) or word in joined:
            got.add(i)
        if i + 1 < len(words) and word + words[i + 1] in other:
            got |= {i, i + 1}
    return got


def _words(text: str) -> list[str]:
    return [w for w in text.split() if len(w) >= 2 and not w.isdigit()]


class Lexicon:
    """Which codes' labels use each word, by stem or spelling; answers are cached."""

    def __init__(self, labelled: Iterable[tuple[str, str]]) -> None:
        """``labelled``: (normalised label, code) pairs of one script."""
        by_word: dict[str, set[str]] = defaultdict(set)
        for label, code in labelled:
            for word in _words(label):
                by_word[word].add(code)
        self._words = sorted(by_word)
        self._codes = [frozenset(by_word[w]) for w in self._words]
        self._by_stem: dict[str, list[int]] = defaultdict(list)
        for i, word in enumerate(self._words):
            self._by_stem[word_stem(word)].append(i)
        self._cache: dict[str, frozenset[str]] = {}

    def codes_of(self, word: str) -> frozenset[str]:
        """The codes whose labels use ``word`` in some form."""
        found = self._cache.get(word)
        if found is None:
            hits = set(self._by_stem.get(word_stem(word), ()))
            if len(word) >= _PREFIX:  # derived words share a long start (sorted: one slice)
                lo = bisect_left(self._words, word[:_PREFIX])
                hi = bisect_left(self._words, word[:_PREFIX] + "\uffff")
                hits.update(i for i in range(lo, hi) if same_word(word, self._words[i]))
            if len(word) >= 4:
                near = process.extract(word, self._words, scorer=fuzz.ratio, score_cutoff=_SPELLING, limit=None)
                hits.update(i for _, _, i in near)
            found = frozenset().union(*(self._codes[i] for i in hits)) if hits else frozenset()
            self._cache[word] = found
        return found


def doubt(
    title: str, label: str, codes: Sequence[str], lexicon: Lexicon, name: Callable[[str], str], *, narrower: bool = True
) -> str:
    """Why the best of ``codes`` is not sure although it scores well, in Italian; empty when no doubt.

    ``title`` and ``label`` are normalised (the title variant and the label of ``codes[0]`` that
    scored best); ``name`` gives a code's label for the explanation.
    """
    top, others = codes[0], set(codes[1:])
    words, label_words = _words(title), _words(label)
    if vague(title):
        return f"«{title}» non dice quale mestiere: va chiesto alla persona"
    if len(words) == 1 and not any(_same_form(words[0], w) for w in label_words):
        # one word recognised by its spelling only: a typo ("magaziniere") or another job ("fiorista")
        return f"«{title}» somiglia a «{label}» solo per la grafia: va confermato"
    matched_at = _covered(words, label_words)
    matched = [w for i, w in enumerate(words) if i in matched_at]
    unmatched = [w for i, w in enumerate(words) if i not in matched_at]
    for word in unmatched:
        elsewhere = lexicon.codes_of(word)
        if len(elsewhere) >= GENERIC_CODES:
            continue  # "worker" says nothing about which of the candidates
        rival = next((c for c in codes[1:] if c in elsewhere), None) if top not in elsewhere else None
        if rival is not None and rival in others:
            return f"«{word}» non compare in «{label}» e fa pensare a «{name(rival)}» ({rival})"
    if unmatched and all(len(lexicon.codes_of(w)) >= GENERIC_CODES for w in matched):
        if not matched:
            return f"nessuna parola del titolo compare in «{label}»"
        return f"il titolo somiglia a «{label}» solo per parole generiche ({', '.join(matched)})"
    if narrower:
        said = _covered(label_words, words)
        for i, word in enumerate(label_words):
            if i not in said and len(word) >= 4 and len(lexicon.codes_of(word)) < GENERIC_CODES:
                return f"«{label}» dice anche «{word}», che il titolo non dice"
    return ""


#: Words that name no trade by themselves: a worker, a role, a driver without the licence, a teacher
#: without the level, a setting or a qualifier ("generico", "general", "загальний"), in the forms
#: titles write them once normalised (feminine job nouns are already masculine). Management words
#: are not here: "direttore generale" and "general manager" are one job (1120).
VAGUE_WORDS = frozenset(
    """operaio operaia operai operaie lavoratore lavoratori impiegato impiegata impiegati dipendente
    addetto addetta addetti operatore operatori tecnico tecnica assistente aiutante collaboratore
    apprendista stagista tirocinante consulente specialista professionista libero autonomo ingegnere
    insegnante docente autista conducente generico generica generici generale polivalente vari varie
    mansioni fabbrica stabilimento azienda ditta lavoro produzione linea macchine macchina qualsiasi
    worker workers labourer laborer operative operatives operator operators employee staff assistant
    helper technician engineer consultant specialist professional clerk driver general factory
    production line machine job work self employed freelance freelancer teacher intern apprentice
    various duties any
    робітник робітники рабочий рабочая працівник працівники співробітник різноробочий різноробоча
    розноробочий разнорабочий разнорабочая чорнороб чернорабочий работник работница підсобник
    підсобний підсобна оператор інженер инженер технік техник спеціаліст специалист фахівець помічник
    помощник асистент ассистент водій водитель вчитель учитель викладач преподаватель загальний
    загальна общий завод заводі заводу фабрика фабриці виробництво виробництві виробнича виробничої
    виробничий производство производстве производственный лінія лінії линия линии робота работа фоп
    стажер""".split()
)


def vague(title: str) -> bool:
    """Every word of the (normalised) title is one of ``VAGUE_WORDS`` (exactly: "trainer",
    "teaching", "conductor" are not "trainee", "teacher", "conducente")."""
    words = _words(title)
    return bool(words) and all(w in VAGUE_WORDS for w in words)


# --- Ukrainian written in Latin letters --------------------------------------------------------

_TO_CYRILLIC = (
    ("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("tz", "ц"), ("ch", "ч"),
    ("sh", "ш"), ("yu", "ю"), ("ju", "ю"), ("ya", "я"), ("ja", "я"), ("ye", "є"), ("je", "є"),
    ("yi", "ї"), ("yo", "йо"), ("jo", "йо"), ("x", "кс"),
)  # fmt: skip
_LETTERS = dict(zip("abcdefghijklmnopqrstuvwz", "абцдефггійклмнопкрстуввз", strict=True))
_WORD_END = (("ia", "я"), ("iu", "ю"), ("iy", "ій"), ("yy", "ий"))


_SOFT_SIGN = re.compile(r"л(?=н[иі]|к[аиі]$)")  # the soft sign Latin spellings drop: "-alnyk", "-elka"


def to_cyrillic(text: str, *, h: str = "г") -> str:
    """Ukrainian (or Russian) typed in Latin letters, back in Cyrillic, feminine job nouns in the
    masculine as ``normalize_title`` gives them: "medsestra" → "медсестра", "zvaryuvalnyk" →
    "зварювальник", "kukhar" → "кухар". National (2010) and informal spellings alike; a lone "h"
    is "г" (national) or, with ``h="х"``, the "х" informal spellings write ("ohoronets"). Only for
    comparison, so an approximate reading is enough."""
    words = []
    for word in text.split():
        out, i = [], 0
        while i < len(word):
            for latin, cyr in _WORD_END if i + 3 >= len(word) else ():
                if word.endswith(latin, i) and i + len(latin) == len(word):
                    out.append(cyr)
                    i = len(word)
                    break
            else:
                for latin, cyr in _TO_CYRILLIC:
                    if word.startswith(latin, i):
                        out.append(cyr)
                        i += len(latin)
                        break
                else:
                    ch = word[i]
                    after_vowel = ch == "y" and i > 0 and word[i - 1] in "aeiou"
                    out.append("й" if after_vowel or ch == "j" else _LETTERS.get(ch, "и" if ch == "y" else ch))
                    i += 1
        words.append(masculine(_SOFT_SIGN.sub("ль", "".join(out).replace("г", h) if h != "г" else "".join(out))))
    return " ".join(words)
