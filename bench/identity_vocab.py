"""The words a synthetic population is made of: names, streets, towns, in two languages.

Each list is ranked, most common first, so that a Zipf-like draw
(``Ranked.draw``) makes a few values very common and a long tail rare, as
real names and streets are: term frequency matters.  Past the hand-written
head of real names, a tail of plausible invented surnames is composed from
roots and endings.  Russian male given names carry their patronymic forms and
diminutives; ``feminine`` gives a surname's female form (Иванов → Иванова,
Вишневский → Вишневская, Шевченко and Черных stay), ``latin`` a
passport-like transliteration in one of its common spellings.

    SURNAMES_RU.draw(rnd)                      # "Иванов" more often than "Дёмин"
    feminine("Толстой"), latin("Щукин", 1)     # "Толстая", "Schukin"
"""

from __future__ import annotations

import random
import re
from bisect import bisect
from dataclasses import dataclass
from itertools import accumulate


@dataclass(frozen=True)
class Ranked:
    """Values most common first, drawn with probability proportional to 1 / rank ** skew."""

    values: tuple[str, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, values: list[str], skew: float) -> Ranked:
        unique = tuple(dict.fromkeys(values))
        weights = (1 / (rank**skew) for rank in range(1, len(unique) + 1))
        return cls(unique, tuple(accumulate(weights)))

    def draw(self, rnd: random.Random) -> str:
        return self.values[bisect(self.cumulative, rnd.random() * self.cumulative[-1])]


def _words(text: str) -> list[str]:
    return text.split()


def _compose(roots: str, middles: str, endings: str) -> list[str]:
    """Invented surnames, the simpler ones first: root + ending, then root + middle + ending."""
    parts = [""] + middles.split()
    return [r + m + e for m in parts for e in endings.split() for r in roots.split()]


# -- Russian -------------------------------------------------------------------------------
# name: patronymic stem (…вич/…вна are added), diminutives
MALE_RU = {
    "Александр": ("Александров", "Саша Шура Санёк"),
    "Сергей": ("Сергеев", "Серёжа"),
    "Дмитрий": ("Дмитриев", "Дима Митя"),
    "Андрей": ("Андреев", "Андрюша"),
    "Алексей": ("Алексеев", "Лёша Алёша"),
    "Максим": ("Максимов", "Макс"),
    "Евгений": ("Евгеньев", "Женя"),
    "Иван": ("Иванов", "Ваня"),
    "Михаил": ("Михайлов", "Миша"),
    "Артём": ("Артёмов", "Тёма"),
    "Владимир": ("Владимиров", "Вова Володя"),
    "Николай": ("Николаев", "Коля"),
    "Павел": ("Павлов", "Паша"),
    "Денис": ("Денисов", ""),
    "Игорь": ("Игорев", ""),
    "Виктор": ("Викторов", "Витя"),
    "Роман": ("Романов", "Рома"),
    "Олег": ("Олегов", ""),
    "Антон": ("Антонов", "Тоша"),
    "Кирилл": ("Кириллов", "Киря"),
    "Никита": ("Никитич", ""),
    "Илья": ("Ильич", "Илюша"),
    "Владислав": ("Владиславов", "Влад Слава"),
    "Константин": ("Константинов", "Костя"),
    "Юрий": ("Юрьев", "Юра"),
    "Вадим": ("Вадимов", "Вадик"),
    "Пётр": ("Петров", "Петя"),
    "Георгий": ("Георгиев", "Гоша Жора"),
    "Григорий": ("Григорьев", "Гриша"),
    "Фёдор": ("Фёдоров", "Федя"),
    "Семён": ("Семёнов", "Сёма"),
    "Лев": ("Львов", "Лёва"),
    "Тимофей": ("Тимофеев", "Тима"),
    "Егор": ("Егоров", ""),
    "Станислав": ("Станиславов", "Стас"),
    "Василий": ("Васильев", "Вася"),
    "Анатолий": ("Анатольев", "Толя"),
    "Борис": ("Борисов", "Боря"),
    "Валерий": ("Валерьев", "Валера"),
    "Вячеслав": ("Вячеславов", "Слава"),
    "Геннадий": ("Геннадьев", "Гена"),
    "Леонид": ("Леонидов", "Лёня"),
    "Степан": ("Степанов", "Стёпа"),
    "Матвей": ("Матвеев", "Мотя"),
    "Ярослав": ("Ярославов", "Ярик Слава"),
}
FEMALE_RU = {
    "Елена": "Лена", "Ольга": "Оля", "Наталья": "Наташа", "Татьяна": "Таня", "Анна": "Аня",
    "Мария": "Маша", "Ирина": "Ира", "Екатерина": "Катя", "Светлана": "Света",
    "Юлия": "Юля", "Анастасия": "Настя", "Марина": "", "Людмила": "Люда", "Галина": "Галя",
    "Надежда": "Надя", "Ксения": "Ксюша", "Дарья": "Даша", "Алёна": "", "Виктория": "Вика",
    "Евгения": "Женя", "Валентина": "Валя", "Любовь": "Люба", "Вера": "", "Полина": "Поля",
    "Кристина": "", "Алина": "", "Софья": "Соня", "Александра": "Саша", "Елизавета": "Лиза",
    "Оксана": "", "Алла": "", "Лариса": "", "Нина": "", "Тамара": "", "Валерия": "Лера",
    "Маргарита": "Рита", "Вероника": "Ника", "Яна": "", "Диана": "", "Ангелина": "Геля",
    "Зоя": "", "Раиса": "Рая", "Жанна": "",
}  # fmt: skip
DIMINUTIVES_RU = {n: d.split() for n, (_, d) in MALE_RU.items() if d} | {
    n: d.split() for n, d in FEMALE_RU.items() if d
}


def patronymic(father: str, female: bool) -> str:
    stem = MALE_RU[father][0]
    if stem.endswith("ич"):  # Никитич/Никитична, Ильич/Ильинична
        return (stem[:-2] + ("ична" if father != "Илья" else "инична")) if female else stem
    if stem.endswith("ев") or stem.endswith("ёв"):
        base = stem[:-2] + "е"
    else:
        base = stem[:-2] + "о"
    return base + ("вна" if female else "вич")


_SURNAMES_RU_HEAD = """
Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов
Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев
Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев
Кузьмин Фролов Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков Сорокин
Виноградов Ковалёв Белов Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров Давыдов
Беляев Герасимов Богданов Осипов Сидоров Матвеев Титов Марков Миронов Крылов Куликов
Карпов Власов Мельников Денисов Гаврилов Тихонов Казаков Афанасьев Данилов Савельев
Тимофеев Фомин Чернов Абрамов Мартынов Ефимов Федотов Щербаков Назаров Калинин Исаев
Чернышёв Быков Маслов Родионов Коновалов Лазарев Воронин Климов Филатов Пономарёв Голубев
Кудрявцев Прохоров Наумов Потапов Журавлёв Овчинников Трофимов Леонов Соболев Ермаков
Колесников Гончаров Емельянов Никифоров Грачёв Котов Гришин Ефремов Архипов Громов
Шевченко Бондаренко Коваленко Ткаченко Кравченко Ким Цой Черных Седых Долгих Петросян
Высоцкий Покровский Вишневский Островский Успенский Толстой Донской Луговой Алиев Гарипов
"""
_SURNAMES_RU_TAIL = _compose(
    "Бел Чер Крас Зел Гол Мал Вел Нов Стар Добр Тих Лис Вол Мед Сок Гус Кур Дуб Рыж Сер Бор "
    "Лук Мух Жар Снег Ветр Пест Кос Шил Гор Лыс Пуш Сух Шуст Зыб Кал Хмел Брус Луз Ряб Ерш",
    "ик ан ун ач ен ош ят",
    "ов ин ухин енко ецкий ищев онов ышев",
)
# the head's shares as real ones are (the commonest about 2%), thousands of rare ones
SURNAMES_RU = Ranked.of(_SURNAMES_RU_HEAD.split() + _SURNAMES_RU_TAIL, 0.6)
MALE_NAMES_RU = Ranked.of(list(MALE_RU), 0.7)
FEMALE_NAMES_RU = Ranked.of(list(FEMALE_RU), 0.7)
STREETS_RU = Ranked.of(
    _words("""Ленина Центральная Молодёжная Школьная Лесная Садовая Советская Новая Набережная
    Заречная Зелёная Мира Гагарина Пушкина Кирова Октябрьская Комсомольская Первомайская
    Полевая Северная Южная Солнечная Луговая Рабочая Строителей Победы Чехова Горького
    Лермонтова Маяковского Некрасова Калинина Фрунзе Свердлова Чапаева Куйбышева Космонавтов
    Суворова Жукова Матросова Береговая Вокзальная Почтовая Парковая Майская Весенняя
    Озёрная Речная Кооперативная Пролетарская Интернациональная Тверская Профсоюзная
    Ломоносова Есенина Королёва Серова Менделеева Тургенева Гоголя Толстого Достоевского
    Добролюбова Циолковского Мичурина Энтузиастов Металлистов Дружбы Юбилейная Спортивная
    Новосёлов Тихая Дачная Берёзовая Рябиновая Кленовая Сиреневая Вишнёвая Лиговская
    Московская Ярославская Киевская Смоленская Нижегородская Казанская"""),
    0.7,
)
STREET_KINDS_RU = ("ул.", "улица", "пр-т", "проспект", "пер.", "б-р", "ш.")
# town, postcode prefix (three digits; Moscow's first two)
CITIES_RU = [
    ("Москва", "1"), ("Санкт-Петербург", "19"), ("Новосибирск", "630"),
    ("Екатеринбург", "620"), ("Казань", "420"), ("Нижний Новгород", "603"),
    ("Челябинск", "454"), ("Самара", "443"), ("Омск", "644"), ("Ростов-на-Дону", "344"),
    ("Уфа", "450"), ("Красноярск", "660"), ("Воронеж", "394"), ("Пермь", "614"),
    ("Волгоград", "400"), ("Краснодар", "350"), ("Саратов", "410"), ("Тюмень", "625"),
    ("Тольятти", "445"), ("Ижевск", "426"), ("Барнаул", "656"), ("Ульяновск", "432"),
    ("Иркутск", "664"), ("Хабаровск", "680"), ("Ярославль", "150"), ("Владивосток", "690"),
    ("Томск", "634"), ("Оренбург", "460"), ("Кемерово", "650"), ("Рязань", "390"),
    ("Астрахань", "414"), ("Пенза", "440"), ("Липецк", "398"), ("Киров", "610"),
    ("Тула", "300"), ("Калининград", "236"), ("Курск", "305"), ("Сочи", "354"), ("Тверь", "170"),
]  # fmt: skip
MAIL_RU = Ranked.of(
    _words("mail.ru yandex.ru gmail.com bk.ru inbox.ru list.ru rambler.ru ya.ru"), 1
)


def feminine(surname: str) -> str:
    """A surname's female form: -ов/-ев/-ёв/-ин/-ын take -а, -ский/-ой -ская/-ая; others stay."""
    for male, female in (("ский", "ская"), ("цкий", "цкая"), ("ой", "ая"), ("ый", "ая")):
        if surname.endswith(male):
            return surname[: -len(male)] + female
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    return surname


_LATIN_COMMON = dict(
    zip(
        "абвгдезийклмнопрстуфыэ",
        _words("a b v g d e z i i k l m n o p r s t u f y e"),
        strict=True,
    )
) | {"ж": "zh", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ь": ""}
# the spellings people and passports use: 0 passport (ICAO), 1 older passports, 2 informal
_LATIN_SYSTEMS = (
    {"х": "kh", "ц": "ts", "ю": "iu", "я": "ia", "ё": "e", "й": "i"},
    {"х": "kh", "ц": "ts", "ю": "yu", "я": "ya", "ё": "e", "й": "y"},
    {"х": "h", "ц": "c", "ю": "yu", "я": "ya", "ё": "yo", "й": "y", "щ": "sch"},
)


def latin(text: str, system: int) -> str:
    """Cyrillic written in Latin letters, in spelling ``system`` (0–2)."""
    table = _LATIN_COMMON | _LATIN_SYSTEMS[system]
    out = []
    for ch in text:
        low = ch.lower()
        if low not in table:
            out.append(ch)
            continue
        word = table[low]
        out.append(word.capitalize() if ch != low else word)
    written = "".join(out)
    return _IY_AT_END.sub("y", written) if system else written


_IY_AT_END = re.compile(r"iy\b")  # Дмитрий: Dmitriy -> Dmitry in the informal spellings


# -- Latin (English-like, as FEBRL's) ------------------------------------------------------
MALE_EN = Ranked.of(
    _words("""james john robert michael william david richard joseph thomas charles christopher
    daniel matthew anthony mark donald steven paul andrew joshua kenneth kevin brian george
    timothy ronald edward jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry
    justin scott brandon benjamin samuel gregory alexander frank patrick raymond jack dennis
    jerry tyler aaron jose adam nathan henry douglas zachary peter kyle noah ethan jeremy
    walter christian keith roger terry austin sean gerald carl harold dylan arthur lawrence
    jordan jesse bryan billy bruce gabriel joe logan alan juan albert willie elijah wayne
    randy vincent mason roy ralph bobby russell bradley philip eugene"""),
    0.7,
)
FEMALE_EN = Ranked.of(
    _words("""mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy
    betty sandra margaret ashley kimberly emily donna michelle carol amanda melissa deborah
    stephanie dorothy rebecca sharon laura cynthia amy kathleen angela shirley brenda emma
    anna pamela nicole samantha katherine christine helen debra rachel carolyn janet maria
    catherine heather diane olivia julie joyce victoria ruth virginia lauren kelly christina
    joan evelyn judith andrea hannah megan cheryl jacqueline martha madison teresa gloria
    sara janice ann kathryn abigail sophia frances jean alice judy isabella julia grace amber
    denise danielle marilyn beverly charlotte natalie theresa diana brittany doris kayla
    alexis lori marie"""),
    0.7,
)
_SURNAMES_EN_HEAD = """
smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez
gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris
sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen hill
flores green adams nelson baker hall rivera campbell mitchell carter roberts gomez phillips
evans turner diaz parker cruz edwards collins reyes stewart morris morales murphy cook
rogers gutierrez ortiz morgan cooper peterson bailey reed kelly howard ramos kim cox ward
richardson watson brooks chavez wood james bennett gray mendoza ruiz hughes price alvarez
castillo sanders patel myers long ross foster jimenez powell jenkins perry russell sullivan
bell coleman butler henderson barnes gonzales fisher vasquez simmons romero jordan patterson
"""
_SURNAMES_EN_TAIL = _compose(
    "ash brad burn chad clay dal els fair hart kirk lang mar nor pem rad stan thorn wal wen "
    "whit ald bark cran dun fen gard hol lind mil red stow",
    "er ing s en al ow",
    "ley ton field well wood worth by ford man son",
)
SURNAMES_EN = Ranked.of(_SURNAMES_EN_HEAD.split() + _SURNAMES_EN_TAIL, 0.6)
STREETS_EN = Ranked.of(
    _words("""main high church park victoria george king queen station mill william elizabeth
    albert bridge north south east west railway hill wattle wallaby banksia acacia eucalypt
    jacaranda boronia waratah grevillea kurrajong pridham hoseason stanley pinkerton
    macquarie hume flinders sturt bass cook phillip forrest lawson oxley kennedy mitchell
    wentworth blaxland bligh darling murray hunter lachlan namoi barwon avoca dalby
    florey chifley curtin menzies deakin barton lyons fisher hughes scullin"""),
    0.7,
)
STREET_KINDS_EN = ("street", "road", "avenue", "place", "crescent", "circuit", "close", "drive")
CITIES_EN = [
    (town, f"{2000 + 37 * i % 7000:04d}")
    for i, town in enumerate(
        _words("""sydney melbourne brisbane perth adelaide canberra hobart darwin geelong newcastle
        wollongong cairns townsville ballarat bendigo toowoomba launceston mackay rockhampton
        bunbury bundaberg wagga albury mildura shepparton gladstone tamworth orange
        dubbo geraldton nowra bathurst warrnambool kalgoorlie lismore""")
    )
]
MAIL_EN = Ranked.of(_words("gmail.com yahoo.com hotmail.com outlook.com bigpond.com icloud.com"), 1)
