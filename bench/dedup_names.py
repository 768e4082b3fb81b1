"""Name pools and transliteration tables of the labelled dedup sets (``bench/dedup_sets.py``).

Written for the sets, from outside the dedup code: Ukrainian names in Cyrillic with their
Russian forms, Ukrainian surnames as roots and suffixes, Russian, Italian (Bergamo),
Latin-American and West-African/Maghreb pools, and six ways of writing Cyrillic in Latin
letters (KMU 2010, English, Russian, French, German, Italian clerks).
"""

from __future__ import annotations


def _list(text: str) -> list[str]:
    """A pool written as "a|b|c" (names may hold spaces)."""
    return [w.strip() for w in text.split("|") if w.strip()]


def _pairs(text: str) -> list[tuple[str, str]]:
    """Ukrainian:Russian pairs written as "Олександр:Александр|…"."""
    return [(a, b) for a, b in (p.split(":") for p in _list(text))]


def _table(text: str, base: dict[str, str | tuple[str, str]] | None = None) -> dict[str, str | tuple[str, str]]:
    """A transliteration table written as "а=a є=ye/ie ь=": "x/y" is (word-initial, elsewhere)."""
    out: dict[str, str | tuple[str, str]] = dict(base or {})
    for item in text.split():
        letter, _, latin = item.partition("=")
        out[letter] = tuple(latin.split("/")) if "/" in latin else latin  # type: ignore[assignment]
    return out


# --- name pools (Cyrillic as in the passport; Russian form for Russian-style spelling) --------

UK_MALE = _pairs(
    """
    Олександр:Александр | Сергій:Сергей | Андрій:Андрей | Дмитро:Дмитрий | Микола:Николай |
    Володимир:Владимир | Олексій:Алексей | Юрій:Юрий | Віктор:Виктор | Іван:Иван | Петро:Петр |
    Василь:Василий | Михайло:Михаил | Богдан:Богдан | Тарас:Тарас | Ігор:Игорь | Євген:Евгений |
    Григорій:Григорий | Віталій:Виталий | Олег:Олег | Роман:Роман | Максим:Максим | Артем:Артем |
    Денис:Денис | Ярослав:Ярослав | Степан:Степан | Анатолій:Анатолий | Валентин:Валентин |
    Костянтин:Константин | Федір:Федор | Павло:Павел | Антон:Антон | Назар:Назар | Остап:Остап |
    Руслан:Руслан | Вадим:Вадим
    """
)
UK_FEMALE = _pairs(
    """
    Олена:Елена | Наталія:Наталья | Тетяна:Татьяна | Ірина:Ирина | Юлія:Юлия | Оксана:Оксана |
    Світлана:Светлана | Людмила:Людмила | Галина:Галина | Катерина:Екатерина | Марія:Мария |
    Анна:Анна | Вікторія:Виктория | Ольга:Ольга | Надія:Надежда | Валентина:Валентина | Інна:Инна |
    Лариса:Лариса | Христина:Кристина | Софія:София | Дарина:Дарья | Анастасія:Анастасия |
    Олександра:Александра | Євгенія:Евгения | Зоряна:Зоряна | Мар'яна:Марьяна | Уляна:Ульяна |
    Богдана:Богдана | Ксенія:Ксения | Лілія:Лилия | Віра:Вера
    """
)
#: Twins with "the same name" in two sexes, the classic near-miss.
TWIN_NAMES = _pairs(
    """
    Олександр:Олександра | Євген:Євгенія | Віктор:Вікторія | Валентин:Валентина | Богдан:Богдана |
    Ярослав:Ярослава | Іван:Іванна
    """
)
UK_ROOTS = _list(
    """
    Ковал | Шевч | Бондар | Ткач | Кравч | Мельнич | Поліщ | Лис | Марч | Павл | Савч | Руд | Петр |
    Клим | Гончар | Кузьм | Левч | Гаврил | Литвин | Захарч | Демч | Харч | Яков | Сидор | Панч |
    Кушнір | Дорош | Роман | Приход | Кост | Тимош | Головч | Гнат | Щерб | Юрч | Зінч | Карп |
    Остап | Мирон | Семен | Федор | Гордій | Стеф | Васил | Дани | Ярем | Бойч | Мороз | Вовч |
    Соловй | Гриц | Мазур | Коз | Орлов | Білозер | Чорнов | Сорок | Жур | Шаповал | Кирил
    """
)
UK_SUFFIX = _list(
    """
    енко | ук | юк | ишин | ак | ко | ів | ець
    """
)
UK_ADJ_ROOTS = _list(
    """
    Ковальськ | Вишневськ | Яворськ | Левицьк | Грушевськ | Залевськ | Білоцерківськ
    """
)
RU_FAMILY = _list(
    """
    Иванов | Смирнов | Кузнецов | Попов | Васильев | Петров | Соколов | Михайлов | Новиков | Федоров
    | Морозов | Волков | Алексеев | Лебедев | Семенов | Егоров | Павлов | Козлов | Степанов |
    Николаев | Орлов | Андреев | Макаров | Никитин | Захаров | Зайцев | Соловьев
    """
)
IT_MALE = _list(
    """
    Marco | Giuseppe | Luca | Andrea | Francesco | Alessandro | Matteo | Davide | Stefano | Paolo
    """
)
IT_FEMALE = _list(
    """
    Giulia | Francesca | Chiara | Sara | Elena | Valentina | Silvia | Federica | Laura | Paola
    """
)
IT_FAMILY = _list(
    """
    Rossi | Bianchi | Ferrari | Colombo | Brembilla | Locatelli | Rota | Pesenti | Carminati |
    Gritti | Mazzoleni | Bonacina | Ghisleni | Cortinovis | Previtali | Zanchi | Bertocchi | Milesi
    | Cattaneo | Gamba | Salvi | Ravasio | Beretta | Agazzi | Belotti | Capelli
    """
)
LA_MALE = _list(
    """
    José | Juan Carlos | Luis | Jorge | Carlos | Miguel Ángel | Diego | Andrés
    """
)
LA_FEMALE = _list(
    """
    María José | Ana | Lucía | Carmen | Rosa | Gabriela | Daniela | Valeria
    """
)
LA_FAMILY = _list(
    """
    García | Rodríguez | López | Martínez | Pérez | Gómez | Sánchez | Ramírez | Torres | Flores |
    Vargas | Castillo | Quispe | Mamani | Huamán | Chávez | Rojas | Mendoza
    """
)
AF_MALE = _list(
    """
    Mamadou | Abdoulaye | Ousmane | Youssef | Karim | Moussa | Ibrahima | Rachid | Omar
    """
)
AF_FEMALE = _list(
    """
    Aminata | Fatou | Khadija | Aïcha | Mariama | Salma | Nadia | Awa | Houda
    """
)
AF_FAMILY = _list(
    """
    Diallo | Ndiaye | Sow | Traoré | Cissé | Camara | Diop | Benali | El Idrissi | Ouedraogo |
    Bakayoko | Keita | Touré | Amrani | Bennani | Fofana | Sylla | Coulibaly | Haddad
    """
)
BERGAMO_TOWNS = _list(
    """
    Bergamo | Treviglio | Seriate | Dalmine | Romano di Lombardia | Albino | Caravaggio | Stezzano |
    Ponte San Pietro | Alzano Lombardo | Lovere | Clusone | Zogno | Osio Sotto
    """
)

# --- transliteration conventions -----------------------------------------------------------

COMMON = _table(
    """
    а=a б=b в=v д=d е=e з=z к=k л=l м=m н=n о=o п=p р=r с=s т=t у=u ф=f ь= '= ґ=g ъ=
    """
)
KMU = _table(
    """
    г=h є=ye/ie ж=zh и=y і=i ї=yi/i й=y/i х=kh ц=ts ч=ch ш=sh щ=shch ю=yu/iu я=ya/ia ы=y э=e ё=e
    """,
    COMMON,
)
ENGLISH = _table(
    """
    г=h є=ye ж=zh и=y і=i ї=yi й=y х=kh ц=ts ч=ch ш=sh щ=shch ю=yu я=ya ы=y э=e ё=yo
    """,
    COMMON,
)
RUSSIAN = _table(
    """
    е=e/e г=g ё=e ж=zh и=i й=y х=kh ц=ts ч=ch ш=sh щ=shch ы=y э=e ю=yu я=ya і=i є=e ї=i
    """,
    COMMON,
)
FRENCH = _table(
    """
    у=ou г=h є=ie ж=j и=y і=i ї=ï й=ï х=kh ц=ts ч=tch ш=ch щ=chtch ю=iou я=ia ы=y ё=io э=e
    """,
    COMMON,
)
GERMAN = _table(
    """
    в=w з=s г=h є=je ж=sh и=y і=i ї=ji й=j х=ch ц=z ч=tsch ш=sch щ=schtsch ю=ju я=ja ы=y ё=jo э=e
    """,
    COMMON,
)
ITALIAN = _table(
    """
    г=h є=ie ж=j и=i і=i ї=i й=i х=ch ц=z ю=iu я=ia ы=i ё=io э=e щ=sc
    """,
    COMMON,
)
UA_OPERATORS = ["50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98"]
RUSSIAN_FORM = dict(UK_MALE + UK_FEMALE)
VOWELS_CYR = set("аеєиіїоуюяыэё")
