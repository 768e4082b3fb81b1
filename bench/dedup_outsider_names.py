"""Names, spellings and tax codes for the outsider referral set (``bench/dedup_outsider.py``).

Written apart from the dedup code and from ``bench/dedup_sets.py``: people referred to the
employment centres of Bergamo, by origin, with the ways their names really get written down.
Cyrillic names are kept in Cyrillic and written into Latin by one of the systems below (the
Ukrainian passport of 2010, the Russian passport before and after 2013, English, French,
German, Italian, Polish and scholarly spellings), the way a different office would. Every other
origin lists, per name, the spellings one meets for it (the first one is the person's own).
"""

from __future__ import annotations

import random
import re
import unicodedata
from datetime import date

# ------------------------------------------------------------------ Cyrillic → Latin

_VOWELS = set("аеєиіїоуюяыэё")
_BASE = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
    "и": "i", "і": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ь": "", "ъ": "", "'": "", "ы": "y", "э": "e", "ё": "e", "й": "i", "ї": "i",
    "є": "ie", "ю": "iu", "я": "ia",
}  # fmt: skip
# Per system: letter → (word-initial or after a vowel, elsewhere). Missing letters use _BASE.
_SYSTEMS: dict[str, dict[str, tuple[str, str]]] = {
    # Ukrainian national (KMU 2010): the passports issued since 2010
    "ua_passport": {"г": ("h", "h"), "и": ("y", "y"), "є": ("ye", "ie"), "ї": ("yi", "i"),
                    "й": ("y", "i"), "ю": ("yu", "iu"), "я": ("ya", "ia")},
    # Ukrainian, English/BGN-like: Andriy, Serhiy, Nataliya, Tetyana
    "ua_english": {"г": ("h", "h"), "и": ("y", "y"), "є": ("ye", "ye"), "ї": ("yi", "yi"),
                   "й": ("y", "y"), "ю": ("yu", "yu"), "я": ("ya", "ya"), "ь": ("", "")},
    "ua_german": {"г": ("h", "h"), "и": ("y", "y"), "в": ("w", "w"), "ж": ("sch", "sch"),
                  "з": ("s", "s"), "х": ("ch", "ch"), "ц": ("z", "z"), "ч": ("tsch", "tsch"),
                  "ш": ("sch", "sch"), "щ": ("schtsch", "schtsch"), "є": ("je", "je"),
                  "ї": ("ji", "ji"), "й": ("j", "j"), "ю": ("ju", "ju"), "я": ("ja", "ja")},
    "ua_french": {"г": ("h", "h"), "и": ("y", "y"), "ж": ("j", "j"), "ч": ("tch", "tch"),
                  "ш": ("ch", "ch"), "щ": ("chtch", "chtch"), "у": ("ou", "ou"),
                  "ю": ("iou", "iou"), "я": ("ia", "ia"), "й": ("ï", "ï"), "ї": ("ï", "ï"),
                  "є": ("ie", "ie")},
    "ua_polish": {"г": ("h", "h"), "и": ("y", "y"), "в": ("w", "w"), "ж": ("ż", "ż"),
                  "х": ("ch", "ch"), "ц": ("c", "c"), "ч": ("cz", "cz"), "ш": ("sz", "sz"),
                  "щ": ("szcz", "szcz"), "є": ("je", "je"), "ї": ("ji", "ji"), "й": ("j", "j"),
                  "ю": ("ju", "ju"), "я": ("ja", "ja")},
    "ua_italian": {"г": ("h", "h"), "и": ("y", "y"), "ж": ("j", "j"), "х": ("ch", "ch"),
                   "ц": ("z", "z"), "ч": ("c", "c"), "ш": ("sc", "sc"), "щ": ("sc", "sc"),
                   "є": ("ie", "ie"), "ї": ("i", "i"), "й": ("i", "i"), "ю": ("iu", "iu"),
                   "я": ("ia", "ia")},
    # Russian passport since 2013 (ICAO 9303): Iuliia, Tatiana, Evgenii
    "ru_icao": {"й": ("i", "i"), "ю": ("iu", "iu"), "я": ("ia", "ia"), "ъ": ("ie", "ie")},
    # Russian passport 1997–2010: Yuliya, Tatyana, Evgeniy
    "ru_old_passport": {"й": ("y", "y"), "ю": ("yu", "yu"), "я": ("ya", "ya")},
    "ru_english": {"е": ("ye", "e"), "ё": ("yo", "yo"), "й": ("y", "y"), "ю": ("yu", "yu"),
                   "я": ("ya", "ya")},
    "ru_german": {"в": ("w", "w"), "ж": ("sch", "sch"), "з": ("s", "s"), "й": ("j", "j"),
                  "х": ("ch", "ch"), "ц": ("z", "z"), "ч": ("tsch", "tsch"), "ш": ("sch", "sch"),
                  "щ": ("schtsch", "schtsch"), "ю": ("ju", "ju"), "я": ("ja", "ja"),
                  "е": ("je", "e"), "ё": ("jo", "jo")},
    "ru_french": {"ж": ("j", "j"), "ч": ("tch", "tch"), "ш": ("ch", "ch"), "щ": ("chtch", "chtch"),
                  "у": ("ou", "ou"), "ю": ("iou", "iou"), "я": ("ia", "ia"), "й": ("ï", "ï"),
                  "ё": ("io", "io")},
    "ru_italian": {"ж": ("j", "j"), "х": ("ch", "ch"), "ц": ("z", "z"), "ч": ("c", "c"),
                   "ш": ("sc", "sc"), "щ": ("sc", "sc"), "й": ("i", "i"), "ю": ("iu", "iu"),
                   "я": ("ia", "ia"), "ё": ("io", "io")},
    # scholarly (ISO 9 / Czech-like), with the carons a later partner may drop
    "ua_scholarly": {"ж": ("ž", "ž"), "ч": ("č", "č"), "ш": ("š", "š"), "щ": ("šč", "šč"),
                     "х": ("ch", "ch"), "ц": ("c", "c"), "й": ("j", "j"), "ю": ("ju", "ju"),
                     "я": ("ja", "ja"), "є": ("je", "je"), "ї": ("ji", "ji"), "и": ("y", "y"),
                     "г": ("h", "h")},
    "ru_scholarly": {"ж": ("ž", "ž"), "ч": ("č", "č"), "ш": ("š", "š"), "щ": ("šč", "šč"),
                     "х": ("h", "h"), "ц": ("c", "c"), "й": ("j", "j"), "ю": ("ju", "ju"),
                     "я": ("ja", "ja"), "ё": ("ë", "ë"), "э": ("è", "è")},
}  # fmt: skip
UA_SYSTEMS = ("ua_passport", "ua_english", "ua_german", "ua_french", "ua_polish", "ua_italian", "ua_scholarly")
RU_SYSTEMS = ("ru_icao", "ru_old_passport", "ru_english", "ru_german", "ru_french", "ru_italian", "ru_scholarly")
_START_ONLY = {"ua_passport", "ru_icao", "ua_italian", "ru_italian"}


def transliterate(text: str, system: str) -> str:
    """``text`` (Cyrillic, any case) in Latin letters by ``system``, capitalised per word."""
    table = _SYSTEMS[system]
    words = []
    for word in re.split(r"([ \-])", text):
        if word in {" ", "-", ""}:
            words.append(word)
            continue
        low = word.lower()
        out = []
        for i, ch in enumerate(low):
            prev = low[i - 1] if i else ""
            initial = i == 0 or (system not in _START_ONLY and (prev in _VOWELS or prev in {"ь", "ъ", "'"}))
            if system == "ua_passport" and ch == "г" and prev == "з":
                out.append("gh")  # зг → zgh, the passport rule keeping it apart from ж
                continue
            if system in {"ru_english", "ru_old_passport"} and ch == "е" and prev in {"ь", "ъ"}:
                out.append("ye")
                continue
            pair = table.get(ch)
            letters = (pair[0] if initial else pair[1]) if pair else _BASE.get(ch, ch)
            if system in {"ua_italian", "ru_italian"} and ch in "чшщ" and low[i + 1 : i + 2] in {"а", "о", "у"}:
                letters += "i"  # Italian spelling: ciu, scia (Scevciuk, Gorbaciov)
            out.append(letters)
        latin = "".join(out)
        if system in {"ru_french", "ua_french", "ru_german", "ua_german"}:
            latin = re.sub(r"(?<=[aeiouy])s(?=[aeiouy])", "ss", latin)  # Vassili, Wassilij
        if system == "ru_french" and latin.endswith("iï"):
            latin = latin[:-1]  # Evgueni, Vassili
        if system in {"ru_english", "ru_old_passport"} and latin.endswith("yy"):
            latin = latin[:-1] + "iy"
        if system == "ru_french":
            latin = re.sub(r"g(?=[eiy])", "gu", latin)
        if system == "ru_german" and latin.endswith("ow") is False and latin.endswith("ov"):
            latin = latin[:-1] + "w"
        words.append(latin[:1].upper() + latin[1:])
    return "".join(words)


# ------------------------------------------------------------------ tax codes and slips


def tax_code(family: str, given: str, born: date, sex: str, place: str) -> str:
    """The Italian tax code (codice fiscale), by the Agenzia delle Entrate's rules, check letter included."""

    def consonants(s: str) -> str:
        return "".join(c for c in s if c.isalpha() and c not in "AEIOU")

    def vowels(s: str) -> str:
        return "".join(c for c in s if c in "AEIOU")

    fam = ascii_fold(family).upper().replace(" ", "").replace("'", "").replace("-", "")
    giv = ascii_fold(given).upper().replace(" ", "").replace("'", "").replace("-", "")
    part1 = (consonants(fam) + vowels(fam) + "XXX")[:3]
    cg = consonants(giv)
    part2 = (cg[0] + cg[2] + cg[3]) if len(cg) > 3 else (cg + vowels(giv) + "XXX")[:3]
    day = born.day + (40 if sex == "F" else 0)
    body = f"{part1}{part2}{born.year % 100:02d}{'ABCDEHLMPRST'[born.month - 1]}{day:02d}{place}"
    return body + check_char(body)


_OMOCODIA = "LMNPQRSTUV"  # digit → letter, when two people would get one code


def unique_tax_code(cf: str, taken: set[str]) -> str:
    """The Agenzia's answer to two people with one code: digits replaced from the right."""
    body = cf[:15]
    for pos in (14, 13, 12, 10, 9, 7, 6):
        if body + check_char(body) not in taken:
            break
        body = body[:pos] + _OMOCODIA[int(body[pos])] + body[pos + 1 :] if body[pos].isdigit() else body
    code = body + check_char(body)
    taken.add(code)
    return code


_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]


def check_char(body: str) -> str:
    """The check letter of the first 15 characters."""
    total = 0
    for i, c in enumerate(body):
        v = int(c) if c.isdigit() else ord(c) - 65
        total += _ODD[v] if i % 2 == 0 else v
    return chr(65 + total % 26)


def ascii_fold(text: str) -> str:
    """Accents and carons dropped, as a partner without them types."""
    text = text.replace("ł", "l").replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def cedilla(text: str) -> str:
    return text.replace("ș", "ş").replace("ț", "ţ").replace("Ș", "Ş").replace("Ț", "Ţ")


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["sub", "del", "dup", "swap"])
    if kind == "sub":
        near = {
            "a": "e",
            "e": "i",
            "i": "y",
            "o": "u",
            "u": "o",
            "n": "m",
            "m": "n",
            "k": "c",
            "c": "k",
            "s": "z",
            "v": "w",
        }
        return word[:i] + near.get(word[i].lower(), "a") + word[i + 1 :]
    if kind == "del":
        return word[:i] + word[i + 1 :]
    if kind == "dup":
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def tax_code_typo(rng: random.Random, cf: str) -> str:
    i = rng.randrange(len(cf))
    ocr = {"0": "O", "O": "0", "1": "I", "I": "1", "5": "S", "S": "5", "8": "B", "B": "8", "L": "1", "M": "N"}
    if rng.random() < 0.5 and cf[i] in ocr:
        return cf[:i] + ocr[cf[i]] + cf[i + 1 :]
    if rng.random() < 0.4 and i < len(cf) - 1:
        return cf[:i] + cf[i + 1] + cf[i] + cf[i + 2 :]
    return cf[:i] + rng.choice("ABCDEHLMPRST0123456789".replace(cf[i], "")) + cf[i + 1 :]


# ------------------------------------------------------------------ Ukrainian and Russian names

# (Ukrainian, Russian form, sex)
UA_GIVEN = [
    ("Олена", "Елена", "F"), ("Олександр", "Александр", "M"), ("Наталія", "Наталья", "F"),
    ("Юлія", "Юлия", "F"), ("Тетяна", "Татьяна", "F"), ("Андрій", "Андрей", "M"),
    ("Сергій", "Сергей", "M"), ("Дмитро", "Дмитрий", "M"), ("Ірина", "Ирина", "F"),
    ("Оксана", "Оксана", "F"), ("Ольга", "Ольга", "F"), ("Віктор", "Виктор", "M"),
    ("Юрій", "Юрий", "M"), ("Світлана", "Светлана", "F"), ("Галина", "Галина", "F"),
    ("Людмила", "Людмила", "F"), ("Марія", "Мария", "F"), ("Катерина", "Екатерина", "F"),
    ("Володимир", "Владимир", "M"), ("Михайло", "Михаил", "M"), ("Василь", "Василий", "M"),
    ("Євген", "Евгений", "M"), ("Ярослав", "Ярослав", "M"), ("Анастасія", "Анастасия", "F"),
    ("Вікторія", "Виктория", "F"), ("Валентина", "Валентина", "F"), ("Надія", "Надежда", "F"),
    ("Лариса", "Лариса", "F"), ("Олег", "Олег", "M"), ("Іван", "Иван", "M"), ("Петро", "Пётр", "M"),
    ("Максим", "Максим", "M"), ("Артем", "Артём", "M"), ("Ганна", "Анна", "F"),
    ("Софія", "София", "F"), ("Дарина", "Дарина", "F"), ("Христина", "Кристина", "F"),
    ("Богдан", "Богдан", "M"), ("Микола", "Николай", "M"), ("Любов", "Любовь", "F"),
    ("Мар'яна", "Марьяна", "F"), ("Олексій", "Алексей", "M"), ("Інна", "Инна", "F"),
    ("Зоряна", "Зоряна", "F"), ("Тарас", "Тарас", "M"), ("Роман", "Роман", "M"),
]  # fmt: skip
UA_FAMILY = [
    ("Коваленко", "Коваленко"), ("Шевченко", "Шевченко"), ("Бондаренко", "Бондаренко"),
    ("Ткаченко", "Ткаченко"), ("Кравченко", "Кравченко"), ("Мельник", "Мельник"),
    ("Бойко", "Бойко"), ("Коваль", "Коваль"), ("Шевчук", "Шевчук"), ("Поліщук", "Полищук"),
    ("Ковальчук", "Ковальчук"), ("Савченко", "Савченко"), ("Лисенко", "Лысенко"),
    ("Марченко", "Марченко"), ("Руденко", "Руденко"), ("Мороз", "Мороз"), ("Павленко", "Павленко"),
    ("Петренко", "Петренко"), ("Клименко", "Клименко"), ("Олійник", "Олейник"),
    ("Гончаренко", "Гончаренко"), ("Кравчук", "Кравчук"), ("Левченко", "Левченко"),
    ("Харченко", "Харченко"), ("Юрченко", "Юрченко"), ("Захарченко", "Захарченко"),
    ("Кузьменко", "Кузьменко"), ("Зінченко", "Зинченко"), ("Яковенко", "Яковенко"),
    ("Гнатюк", "Гнатюк"), ("Остапчук", "Остапчук"), ("Федорук", "Федорук"), ("Білоус", "Белоус"),
    ("Щербак", "Щербак"), ("Приходько", "Приходько"), ("Дячук", "Дьячук"), ("Хоменко", "Хоменко"),
    ("Ярошенко", "Ярошенко"), ("Литвиненко", "Литвиненко"), ("Вовк", "Волк"),
    ("Козак", "Козак"), ("Сидоренко", "Сидоренко"), ("Гаврилюк", "Гаврилюк"),
    ("Ковальов", "Ковалёв"), ("Соловйов", "Соловьёв"), ("Зайченко", "Зайченко"),
    ("Мазур", "Мазур"), ("Тимошенко", "Тимошенко"), ("Пономаренко", "Пономаренко"),
    ("Дорошенко", "Дорошенко"), ("Ющенко", "Ющенко"), ("Скрипник", "Скрипник"),
]  # fmt: skip
# (masculine, sex-neutral feminine form is built by _feminine)
RU_FAMILY = [
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов", "Новиков", "Морозов",
    "Петров", "Волков", "Соловьёв", "Васильев", "Зайцев", "Павлов", "Семёнов", "Голубев",
    "Виноградов", "Богданов", "Воробьёв", "Фёдоров", "Михайлов", "Тарасов", "Белов", "Комаров",
    "Орлов", "Киселёв", "Макаров", "Андреев", "Ковалёв", "Ильин", "Гусев", "Титов", "Кузьмин",
    "Кудрявцев", "Баранов", "Куликов", "Алексеев", "Степанов", "Яковлев", "Сорокин", "Сергеев",
    "Романов", "Захаров", "Борисов", "Королёв", "Герасимов", "Пономарёв", "Григорьев", "Медведев",
    "Жуков", "Фролов", "Журавлёв", "Николаев", "Крылов", "Максимов", "Сидоров", "Егоров",
    "Щербаков", "Чернышевский", "Малиновский", "Шаповалов", "Юдин", "Хохлов",
]  # fmt: skip
RU_ONLY_GIVEN = [("Ксения", "F"), ("Алла", "F"), ("Станислав", "M"), ("Вячеслав", "M"), ("Эдуард", "M")]
# patronymics: (Ukrainian masculine, Ukrainian feminine, Russian masculine, Russian feminine)
PATRONYMICS = [
    ("Олександрович", "Олександрівна", "Александрович", "Александровна"),
    ("Петрович", "Петрівна", "Петрович", "Петровна"),
    ("Іванович", "Іванівна", "Иванович", "Ивановна"),
    ("Миколайович", "Миколаївна", "Николаевич", "Николаевна"),
    ("Васильович", "Василівна", "Васильевич", "Васильевна"),
    ("Володимирович", "Володимирівна", "Владимирович", "Владимировна"),
    ("Сергійович", "Сергіївна", "Сергеевич", "Сергеевна"),
    ("Юрійович", "Юріївна", "Юрьевич", "Юрьевна"),
    ("Анатолійович", "Анатоліївна", "Анатольевич", "Анатольевна"),
    ("Вікторович", "Вікторівна", "Викторович", "Викторовна"),
    ("Михайлович", "Михайлівна", "Михайлович", "Михайловна"),
    ("Григорович", "Григорівна", "Григорьевич", "Григорьевна"),
]


def patronymic(row: tuple[str, str, str, str], sex: str, russian: bool) -> str:
    """The patronymic of one PATRONYMICS row, Ukrainian or Russian form."""
    return row[(2 if russian else 0) + (1 if sex == "F" else 0)]


def feminine(family_ru: str) -> str:
    """Russian family names take the feminine ending; Ukrainian -enko/-uk do not."""
    if family_ru.endswith(("ов", "ев", "ёв", "ин")):
        return family_ru + "а"
    if family_ru.endswith("ский"):
        return family_ru[:-2] + "ая"
    return family_ru


# ------------------------------------------------------------------ other origins
# Each entry: spellings of one name, the person's own first, then what other offices write.
# A trailing sex letter marks given names.

MD_GIVEN = [  # (Romanian, Cyrillic as in a Russian-language Moldovan document, sex)
    ("Ion", "Ион", "M"), ("Vasile", "Василе", "M"), ("Gheorghe", "Георге", "M"), ("Nicolae", "Николае", "M"),
    ("Mihai", "Михай", "M"), ("Maria", "Мария", "F"), ("Elena", "Елена", "F"), ("Tatiana", "Татьяна", "F"),
    ("Natalia", "Наталья", "F"), ("Svetlana", "Светлана", "F"), ("Ana", "Ана", "F"), ("Victoria", "Виктория", "F"),
    ("Valentina", "Валентина", "F"), ("Ludmila", "Людмила", "F"), ("Alexandru", "Александру", "M"),
    ("Andrei", "Андрей", "M"), ("Sergiu", "Сергиу", "M"), ("Dumitru", "Думитру", "M"), ("Veronica", "Вероника", "F"),
    ("Tudor", "Тудор", "M"), ("Doina", "Дойна", "F"), ("Corina", "Корина", "F"),
]  # fmt: skip
MD_FAMILY = [
    ("Ceban", "Чебан"), ("Rusu", "Русу"), ("Ciobanu", "Чобану"), ("Lungu", "Лунгу"), ("Cojocaru", "Кожокару"),
    ("Munteanu", "Мунтяну"), ("Railean", "Райлян"), ("Bivol", "Бивол"), ("Botnari", "Ботнарь"),
    ("Țurcan", "Цуркан"), ("Guțu", "Гуцу"), ("Moraru", "Морару"), ("Rotari", "Ротарь"), ("Sîrbu", "Сырбу"),
    ("Croitoru", "Кроитору"), ("Cebotari", "Чеботарь"), ("Ursu", "Урсу"), ("Popa", "Попа"), ("Bălan", "Бэлан"),
    ("Țîcu", "Цыку"), ("Grosu", "Гросу"), ("Plămădeală", "Пламадялэ"),
]  # fmt: skip
RO_GIVEN = [
    ("Ion", "M"), ("Andrei", "M"), ("Alexandru", "M"), ("Mihai", "M"), ("Gheorghe", "M"), ("Constantin", "M"),
    ("Florin", "M"), ("Marius", "M"), ("Adrian", "M"), ("Ionuț", "M"), ("Cristian", "M"), ("Daniel", "M"),
    ("Gabriel", "M"), ("Bogdan", "M"), ("Ștefan", "M"), ("Maria", "F"), ("Elena", "F"), ("Ioana", "F"), ("Ana", "F"),
    ("Andreea", "F"), ("Mihaela", "F"), ("Cristina", "F"), ("Alexandra", "F"), ("Gabriela", "F"), ("Daniela", "F"),
    ("Florentina", "F"), ("Loredana", "F"), ("Nicoleta", "F"), ("Simona", "F"), ("Ramona", "F"), ("Larisa", "F"),
]  # fmt: skip
RO_FAMILY = [
    "Popescu", "Ionescu", "Popa", "Pop", "Radu", "Dumitru", "Stan", "Stoica", "Gheorghe", "Matei", "Ciobanu",
    "Rusu", "Munteanu", "Constantin", "Moldovan", "Marin", "Dinu", "Tudor", "Barbu", "Florea", "Lungu", "Șerban",
    "Mihai", "Nistor", "Sârbu", "Ene", "Preda", "Toma", "Nedelcu", "Voicu", "Oprea", "Lazăr", "Neagu",
    "Ardeleanu", "Țăranu", "Mureșan", "Chiriță", "Bălănescu",
]  # fmt: skip
AL_GIVEN = [
    ("Arben", "M"), ("Artan", "M"), ("Besnik", "M"), ("Ilir", "M"), ("Gentian", "M"), ("Ermal", "M"),
    ("Fatmir", "M"), ("Klodian", "M"), ("Erion", "M"), ("Dritan", "M"), ("Endri", "M"), ("Elvis", "M"),
    ("Klejdi", "M"), ("Altin", "M"), ("Blerina", "F"), ("Anila", "F"), ("Elona", "F"), ("Ermira", "F"),
    ("Jonida", "F"), ("Mirela", "F"), ("Valbona", "F"), ("Lindita", "F"), ("Fatjona", "F"), ("Ardita", "F"),
    ("Xhuljana", "F"), ("Rezarta", "F"), ("Enkelejda", "F"), ("Brunilda", "F"),
]  # fmt: skip
AL_FAMILY = [
    ["Hoxha", "Hoxa", "Hodja"], ["Gjoka"], ["Leka"], ["Marku"], ["Prenga"], ["Shehu", "Sheu"], ["Dervishi"],
    ["Çela", "Cela", "Chela"], ["Kola"], ["Gjini", "Gjin"], ["Hysa"], ["Bregu"], ["Brahimi"], ["Krasniqi", "Krasnici"],
    ["Berisha"], ["Gashi"], ["Rama"], ["Dushku"], ["Mema"], ["Lika"], ["Deda"], ["Kurti"], ["Meta"],
    ["Muça", "Muca", "Mucha"], ["Hoti"], ["Zeneli"], ["Xhafa", "Gjafa"], ["Tërshana", "Tershana"],
]  # fmt: skip
MA_GIVEN = [
    (["Mohamed", "Mohammed", "Muhammad", "Mohamad", "Mohammad", "Mhamed"], "M"),
    (["Ahmed", "Ahmad"], "M"), (["Youssef", "Yousef", "Yusuf", "Youssouf"], "M"),
    (["Abdelkader", "Abdel Kader", "Abd el-Kader", "Abdelkadir"], "M"),
    (["Abdellah", "Abdallah", "Abdullah", "Abdellah"], "M"), (["Rachid", "Rashid", "Rachide"], "M"),
    (["Said", "Saïd", "Saeed"], "M"), (["Hassan", "Hasan"], "M"), (["Hicham", "Hisham"], "M"),
    (["Karim", "Kareem"], "M"), (["Mustapha", "Mustafa", "Moustapha"], "M"), (["Khalid", "Khaled"], "M"),
    (["Brahim", "Ibrahim"], "M"), (["Driss", "Idriss", "Idris"], "M"), (["Hamza"], "M"), (["Omar", "Umar"], "M"),
    (["Fatima", "Fatma", "Fatimah"], "F"), (["Khadija", "Khadidja", "Khadijah"], "F"),
    (["Aicha", "Aïcha", "Aisha", "Aysha"], "F"), (["Zineb", "Zainab", "Zeinab"], "F"), (["Naima", "Naïma"], "F"),
    (["Samira"], "F"), (["Latifa", "Latefa"], "F"), (["Malika"], "F"), (["Soukaina", "Sukaina", "Soukayna"], "F"),
    (["Hanane", "Hanan"], "F"), (["Imane", "Iman"], "F"), (["Meryem", "Maryam", "Meriem"], "F"), (["Salma"], "F"),
    (["Nadia"], "F"), (["Amina", "Aminah"], "F"), (["Houda", "Huda"], "F"),
]  # fmt: skip
# Moroccan family names: (root, takes the article al-/el-)
MA_FAMILY = [
    (["Amrani"], True), (["Idrissi", "Idrisi"], True), (["Fassi"], True), (["Mansouri", "Mansuri"], True),
    (["Ouazzani", "Wazzani"], True), (["Boukhari", "Bukhari"], True), (["Khattabi"], True), (["Alami"], True),
    (["Hamdaoui", "Hamdawi"], False), (["Bennani"], False), (["Tazi"], False), (["Berrada"], False),
    (["Chraibi", "Chraïbi"], False), (["Lahlou"], False), (["Naciri", "Nasiri"], False), (["Haddad"], False),
    (["Zerouali", "Zeroual"], False), (["Kabbaj"], False), (["Sabri"], False), (["Bouzid"], False),
    (["Benali", "Ben Ali", "Ben-Ali"], False), (["Benjelloun", "Ben Jelloun"], False),
    (["Ait Ahmed", "Aït Ahmed", "Ait-Ahmed", "Aitahmed"], False), (["Belhaj", "Bel Haj", "Belhadj"], False),
    (["Ouali", "Wali"], False), (["Errahmani", "Rahmani"], False), (["Azzouzi", "Azouzi"], True),
    (["Kaddouri", "Kadouri"], False), (["Benmoussa", "Ben Moussa"], False), (["Ziani"], False),
]  # fmt: skip
SN_GIVEN = [
    (["Mamadou", "Mamadu", "Mamoudou"], "M"), (["Moussa", "Musa"], "M"), (["Ousmane", "Usman", "Ousman"], "M"),
    (["Abdoulaye", "Abdoulay", "Abdullahi"], "M"), (["Cheikh", "Cheick", "Sheikh"], "M"),
    (["Ibrahima", "Ibrahim"], "M"), (["Modou", "Moudou"], "M"), (["Babacar", "Babakar"], "M"),
    (["Alioune", "Aliou"], "M"), (["Serigne"], "M"), (["Lamine", "Lamin"], "M"), (["Pape", "Papa"], "M"),
    (["Ousseynou", "Usseynou"], "M"), (["Malick", "Malik"], "M"), (["Fatou", "Fatu"], "F"),
    (["Aminata", "Aminatou"], "F"), (["Awa", "Aua"], "F"), (["Mariama", "Mariame"], "F"), (["Khady", "Khadi"], "F"),
    (["Ndeye", "Ndèye", "Ndey"], "F"), (["Astou"], "F"), (["Coumba", "Kumba"], "F"), (["Adama"], "F"),
    (["Bineta", "Binta"], "F"), (["Rokhaya", "Rokaya"], "F"),
]  # fmt: skip
SN_FAMILY = [
    ["Diop"], ["Ndiaye", "N'Diaye", "Ndiay"], ["Fall"], ["Sow"], ["Ba", "Bah"], ["Gueye", "Gaye"],
    ["Diallo", "Jallow"], ["Faye"], ["Sarr"], ["Cisse", "Cissé", "Sisse"], ["Mbaye", "M'Baye"], ["Sy"],
    ["Thiam", "Tiam"], ["Seck", "Sek"], ["Niang"], ["Kane"], ["Dieng"], ["Diouf"], ["Sall"],
    ["Camara", "Kamara"], ["Toure", "Touré"], ["Drame", "Dramé"], ["Mbodj", "Mbodji"], ["Wade"], ["Sene", "Sène"],
]  # fmt: skip
NG_GIVEN = [
    (["Chukwuemeka", "Emeka"], "M"), (["Oluwaseun", "Seun"], "M"), (["Adebayo"], "M"), (["Godwin"], "M"),
    (["Samuel"], "M"), (["Osagie"], "M"), (["Efosa"], "M"), (["Osaro", "Osarodion"], "M"), (["Uchenna"], "M"),
    (["Kelechi"], "M"), (["Babatunde", "Tunde"], "M"), (["Emmanuel"], "M"), (["Daniel"], "M"), (["Success"], "M"),
    (["Osaretin", "Osaretinmwen"], "M"), (["Ikechukwu", "Ike"], "M"), (["Ngozi"], "F"), (["Chioma"], "F"),
    (["Blessing"], "F"), (["Precious"], "F"), (["Joy"], "F"), (["Favour", "Favor"], "F"), (["Peace"], "F"),
    (["Gift"], "F"), (["Esohe"], "F"), (["Ifeoma"], "F"), (["Funmilayo", "Funmi"], "F"), (["Yetunde"], "F"),
    (["Princess"], "F"), (["Mercy"], "F"), (["Faith"], "F"), (["Patience"], "F"), (["Osas", "Osasere"], "F"),
]  # fmt: skip
NG_FAMILY = [
    ["Okafor"], ["Okonkwo"], ["Adeyemi"], ["Obi"], ["Eze"], ["Nwosu"], ["Ibrahim"], ["Bello"], ["Osagie"],
    ["Omoregie"], ["Igbinosa"], ["Osaghae"], ["Ehigiator"], ["Edosa"], ["Aigbe"], ["Uwaifo"], ["Okoro"],
    ["Ogunleye"], ["Balogun"], ["Chukwu"], ["Okeke"], ["Akpan"], ["Etim"], ["Ekpo"], ["Igbinovia"],
    ["Osayande"], ["Ogbeide"], ["Idahosa"], ["Iyamu"], ["Obasuyi"],
]  # fmt: skip
PK_GIVEN = [
    (["Imran"], "M"), (["Asif"], "M"), (["Bilal"], "M"), (["Usman", "Osman", "Usmaan"], "M"), (["Kashif"], "M"),
    (["Tariq", "Tarik"], "M"), (["Shahid"], "M"), (["Zeeshan", "Zishan"], "M"), (["Waqas"], "M"), (["Adnan"], "M"),
    (["Faisal", "Faysal"], "M"), (["Naveed", "Navid"], "M"), (["Rizwan"], "M"), (["Sajid"], "M"),
    (["Aamir", "Amir"], "M"), (["Irfan"], "M"), (["Nadeem", "Nadim"], "M"), (["Khurram"], "M"), (["Ali"], "M"),
    (["Ayesha", "Aisha"], "F"), (["Fatima"], "F"), (["Sana"], "F"), (["Saima"], "F"), (["Nazia"], "F"),
    (["Rubina"], "F"), (["Shazia"], "F"), (["Bushra"], "F"), (["Samina"], "F"), (["Nasreen", "Nasrin"], "F"),
]  # fmt: skip
PK_FAMILY = [
    ["Khan"], ["Ahmed", "Ahmad"], ["Ali"], ["Hussain", "Hussein", "Husain"], ["Shah"], ["Iqbal"],
    ["Akhtar", "Akhter"], ["Butt"], ["Bhatti"], ["Malik"], ["Chaudhry", "Chaudhary", "Choudhry"], ["Raza"],
    ["Abbas"], ["Qureshi", "Kureshi"], ["Siddiqui", "Siddiqi"], ["Mirza"], ["Aslam"], ["Anwar"],
    ["Javed", "Javaid"], ["Rehman", "Rahman", "Ur Rehman"], ["Gondal"], ["Cheema"], ["Warraich"],
]  # fmt: skip
BD_GIVEN = [
    (["Abdul Karim"], "M"), (["Shahidul Islam", "Shahidul"], "M"), (["Rafiqul Islam", "Rafiqul"], "M"),
    (["Aminul"], "M"), (["Mizanur Rahman", "Mizanur"], "M"), (["Habibur Rahman", "Habibur"], "M"),
    (["Jahangir Alam", "Jahangir"], "M"), (["Kamrul Hasan", "Kamrul"], "M"), (["Monir Hossain", "Monir"], "M"),
    (["Sumon"], "M"), (["Rasel", "Russel"], "M"), (["Shakil"], "M"), (["Mamun"], "M"), (["Saiful"], "M"),
    (["Nasrin"], "F"), (["Sharmin"], "F"), (["Fatema", "Fatima"], "F"), (["Rina"], "F"), (["Taslima"], "F"),
    (["Shirin"], "F"), (["Ruma"], "F"), (["Nazma", "Najma"], "F"),
]  # fmt: skip
BD_FAMILY = [
    ["Hossain", "Hossen", "Hussain"], ["Islam"], ["Rahman", "Rahaman"], ["Uddin", "Uddeen"],
    ["Miah", "Mia", "Miya"], ["Alam"], ["Ahmed"], ["Akter", "Akhter", "Aktar"], ["Begum", "Begom"],
    ["Sarker", "Sarkar"], ["Chowdhury", "Choudhury"], ["Sheikh", "Shaikh"], ["Khan"], ["Molla", "Mollah"],
    ["Talukder", "Talukdar"], ["Bhuiyan", "Bhuiya", "Bhuyan"], ["Biswas"], ["Mondal", "Mondol"],
]  # fmt: skip
LA_GIVEN = [
    ("José Luis", "M"), ("Juan Carlos", "M"), ("Luis Alberto", "M"), ("Carlos", "M"), ("Jorge", "M"),
    ("Miguel Ángel", "M"), ("Jhon", "M"), ("Jhonatan", "M"), ("Wilmer", "M"), ("Edwin", "M"), ("Fredy", "M"),
    ("Julio César", "M"), ("Víctor Hugo", "M"), ("Luis", "M"), ("Juan", "M"), ("Óscar", "M"),
    ("María José", "F"), ("Ana María", "F"), ("Rosa", "F"), ("Carmen", "F"), ("Gabriela", "F"), ("Daniela", "F"),
    ("Andrea", "F"), ("Yesenia", "F"), ("Lisbeth", "F"), ("Kelly", "F"), ("Milagros", "F"), ("Guadalupe", "F"),
    ("María Fernanda", "F"), ("Rocío", "F"), ("Jessica", "F"),
]  # fmt: skip
LA_FAMILY = [
    "García", "López", "Rodríguez", "Quispe", "Mamani", "Condori", "Huamán", "Flores", "Vargas", "Chávez",
    "Torres", "Gutiérrez", "Rojas", "Castillo", "Vásquez", "Sánchez", "Ramírez", "Cruz", "Ticona", "Choque",
    "Apaza", "Zambrano", "Morales", "Cedeño", "Mendoza", "Ortiz", "Herrera", "Medina", "Aguilar", "Paredes",
    "Villalobos", "De la Cruz", "Pérez", "Martínez", "Hernández", "Jiménez", "Ruiz", "Díaz",
]  # fmt: skip
IT_GIVEN = [
    ("Marco", "M"), ("Giuseppe", "M"), ("Giovanni", "M"), ("Francesco", "M"), ("Luca", "M"), ("Andrea", "M"),
    ("Alessandro", "M"), ("Matteo", "M"), ("Paolo", "M"), ("Stefano", "M"), ("Roberto", "M"), ("Davide", "M"),
    ("Simone", "M"), ("Federico", "M"), ("Nicolò", "M"), ("Mattia", "M"), ("Gianluca", "M"), ("Giulia", "F"),
    ("Francesca", "F"), ("Chiara", "F"), ("Sara", "F"), ("Laura", "F"), ("Anna", "F"), ("Maria", "F"),
    ("Elena", "F"), ("Valentina", "F"), ("Silvia", "F"), ("Martina", "F"), ("Paola", "F"), ("Elisa", "F"),
    ("Alessia", "F"), ("Federica", "F"), ("Roberta", "F"), ("Maria Grazia", "F"), ("Gian Maria", "M"),
]  # fmt: skip
IT_FAMILY = [
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
    "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti",
    "Locatelli", "Rota", "Pesenti", "Carminati", "Gamba", "Bonfanti", "Brembilla", "Cortinovis", "Mazzoleni",
    "Previtali", "Ghilardi", "Ravasio", "Milesi", "Belotti", "Arnoldi", "Bonacina", "Invernizzi", "Pellegrini",
    "Salvi", "Zanchi", "Cattaneo", "Facchinetti", "Gritti", "Beretta", "D'Angelo", "Dell'Orto", "Bergamelli",
    "Nicolì", "Sangaletti", "Capelli",
]  # fmt: skip
CN_FAMILY = [
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Hu", "Zhu",
    "Gao", "Lin", "He", "Guo", "Ma", "Zheng", "Jin", "Ye", "Pan", "Dong",
]  # fmt: skip
CN_GIVEN = [  # (syllables, sex)
    (["Wei"], "M"), (["Jian", "Hua"], "M"), (["Xiao", "Ming"], "M"), (["Jun"], "M"), (["Lei"], "M"),
    (["Yong"], "M"), (["Qiang"], "M"), (["Hai", "Tao"], "M"), (["Zhi", "Qiang"], "M"), (["Jie"], "M"),
    (["Wen", "Bin"], "M"), (["Fang"], "F"), (["Li", "Na"], "F"), (["Xiao", "Yan"], "F"), (["Jing"], "F"),
    (["Hui"], "F"), (["Hong"], "F"), (["Xiu", "Ying"], "F"), (["Gui", "Ying"], "F"), (["Hai", "Yan"], "F"),
    (["Mei", "Ling"], "F"), (["Li", "Li"], "F"), (["Ya", "Ting"], "F"),
]  # fmt: skip

MUNICIPALITIES = [
    "Bergamo", "Bergamo", "Bergamo", "Bergamo", "Treviglio", "Seriate", "Dalmine", "Romano di Lombardia",
    "Caravaggio", "Albino", "Stezzano", "Alzano Lombardo", "Ponte San Pietro", "Curno", "Grumello del Monte",
    "Zingonia", "Verdellino", "Osio Sotto", "Ciserano", "Calcinate", "Martinengo", "Lovere", "Clusone",
    "Sarnico", "Villa d'Almè", "Brembate", "Nembro", "Torre Boldone", "Zogno", "Costa Volpino", "Almè",
    "Cologno al Serio", "Ghisalba", "Boltiere", "Urgnano", "Palazzolo sull'Oglio",
]  # fmt: skip
# Birth places for the tax code: Italian comuni (cadastral codes) and foreign states (Z codes).
BIRTH_CODES = {
    "UA": "Z138", "RU": "Z154", "MD": "Z140", "RO": "Z129", "AL": "Z100", "MA": "Z330", "SN": "Z343",
    "NG": "Z335", "PK": "Z236", "BD": "Z249", "LA": "Z611", "CN": "Z210",
}  # fmt: skip
IT_BIRTH_CODES = ["A794", "A794", "A794", "F205", "L400", "I628", "D245", "F839", "G273", "H501"]
EMAIL_DOMAINS = {
    "UA": ["gmail.com", "ukr.net", "i.ua", "gmail.com"], "RU": ["mail.ru", "yandex.ru", "gmail.com"],
    "MD": ["mail.ru", "gmail.com", "yahoo.com"], "RO": ["yahoo.com", "gmail.com", "yahoo.ro"],
    "AL": ["gmail.com", "hotmail.com", "libero.it"], "MA": ["hotmail.com", "hotmail.it", "gmail.com", "yahoo.fr"],
    "SN": ["gmail.com", "yahoo.fr", "hotmail.fr"], "NG": ["gmail.com", "yahoo.com"],
    "PK": ["gmail.com", "hotmail.com", "yahoo.com"], "BD": ["gmail.com", "yahoo.com"],
    "LA": ["hotmail.com", "gmail.com", "outlook.com"], "IT": ["gmail.com", "libero.it", "alice.it", "virgilio.it"],
    "CN": ["qq.com", "163.com", "gmail.com"],
}  # fmt: skip
