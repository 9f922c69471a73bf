"""Demo data of the households area: invented families of Turin taken in charge by the demo
entities, with their members and the last six months of the hubs' distribution log.

`seed_households(organizations, users, today)` is called by `app.demo.seed_demo()` after the
registry and the accounts. Every family is invented; the codici fiscali are built with the official
rules (surname, name, birth date, sex, place of birth, check character) so they are valid and
consistent with each person's data, and unique (a homocode variant settles a collision).

What the demo relies on:

- about 90 households over all eight circoscrizioni, owned by the active hubs and job services;
  `ente1`'s organization (index 0) owns 18, mostly in Barriera di Milano and its neighbours,
  `ente2`'s (index 1) owns 10 around San Paolo; the housing-only provider and the inactive former
  hub own none;
- many young people aged 18-29, several of them NEET;
- households closed more than six years ago (anonymisation), one sharing authorisation withdrawn,
  a few households without authorisation or privacy notice;
- food baskets and basic necessities at the owners' hubs for the last six months, a few second
  baskets in a month with their reason; four of `ente1`'s households have no basket this month.

Randomness comes only from `random.Random(2026)` and dates only from `today`, so two runs on the
same day give the same data. Rows are added and flushed, never committed: the caller commits.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from stdnum.it import codicefiscale

from app.audit.operations import record
from app.auth.models import User
from app.distributions.models import Distribution
from app.extensions import db
from app.households.codice_fiscale import consistency_problem, format_problem
from app.households.consents import DEFAULT_MONTHS, LEDGER_NOTE, add_months
from app.households.models import Consent, Household, Person
from app.registry.models import NEIGHBOURS, Organization, Site

ROME = ZoneInfo("Europe/Rome")
SEED = 2026
MONTHS_OF_DISTRIBUTIONS = 6
ENTE1_WITHOUT_BASKET_THIS_MONTH = 4

# Households of ente1's organization (index 0) and ente2's (index 1), by circoscrizione.
ENTE1_DISTRICTS: tuple[int, ...] = (6,) * 12 + (5, 5, 5, 7, 7, 4)
ENTE2_DISTRICTS: tuple[int, ...] = (3,) * 6 + (2, 2, 4, 1)
HOUSEHOLDS_PER_HUB = 7  # other organizations that run a hub
HOUSEHOLDS_PER_JOB_SERVICE = 4  # other job services

# Codici catastali (Belfiore) of birthplaces.
TORINO = "L219"
NEAR_TORINO = ("F335", "C860", "H355")  # Moncalieri, Collegno, Rivoli
SOUTH = ("F839", "G273", "A662", "C351", "D643", "H224", "E506")  # Napoli ... Lecce
OTHER_ITALY = ("F205", "H501", "D969")  # Milano, Roma, Genova

_MONTH_LETTERS = "ABCDEHLMPRST"
_HOMOCODE_LETTERS = "LMNPQRSTUV"
_HOMOCODE_POSITIONS = (14, 13, 12, 10, 9, 7, 6)  # digits replaced, rightmost first
_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


# Origins --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Origin:
    key: str
    weight: int
    surnames: tuple[str, ...]
    male: tuple[str, ...]
    female: tuple[str, ...]
    languages: tuple[str, ...] = ()  # spoken at home besides Italian
    birthplace: str = TORINO  # Belfiore code of the foreign state
    male_italy_born: tuple[str, ...] = ()  # names often given to children born in Italy
    female_italy_born: tuple[str, ...] = ()
    max_arrival_years: int = 22

    @property
    def italian(self) -> bool:
        return self.key == "it"

    @property
    def home_language(self) -> str:
        """The language spoken at home by children who grow up in Italy."""
        return {"sn": "wo", "ua": "uk"}.get(self.key, self.languages[0] if self.languages else "it")


ITALIAN = _Origin(
    key="it",
    weight=34,
    surnames=(
        "Rossi", "Russo", "Ferrero", "Bianco", "Colombo", "Esposito", "Romano", "Gallo",
        "Greco", "Bruno", "Conti", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti",
        "Barbero", "Cravero", "Gribaudo", "Marino", "Caruso", "Ferraris", "Fontana", "Leone",
        "Longo", "Martini", "Mancini", "Vitale", "Serra", "De Luca", "D'Amico", "Pautasso",
        "Bertola", "Sacco", "Quaranta", "Cirillo", "Amato", "Messina", "La Rosa", "Peano",
        "Audisio", "Cavallo", "Scarpa", "Mazza", "Pellegrino", "Sorrentino", "Di Stefano",
    ),
    male=(),
    female=(),
)  # fmt: skip

# Italian first names by generation: (born up to ~35 years ago, adults, elderly).
IT_MALE = (
    ("Luca", "Matteo", "Alessandro", "Lorenzo", "Andrea", "Davide", "Simone", "Gabriele",
     "Riccardo", "Tommaso", "Leonardo", "Federico", "Samuele", "Christian", "Mattia", "Manuel",
     "Kevin", "Edoardo"),
    ("Marco", "Giuseppe", "Antonio", "Francesco", "Salvatore", "Stefano", "Massimo", "Roberto",
     "Paolo", "Fabio", "Vincenzo", "Domenico", "Michele", "Maurizio", "Daniele", "Gianluca",
     "Claudio", "Cristian"),
    ("Giovanni", "Pasquale", "Carmine", "Gianfranco", "Mario", "Franco", "Piero", "Luigi",
     "Angelo", "Rocco", "Giorgio", "Sergio", "Nicola", "Bruno"),
)  # fmt: skip
IT_FEMALE = (
    ("Giulia", "Sofia", "Aurora", "Martina", "Alessia", "Chiara", "Sara", "Giorgia", "Noemi",
     "Ginevra", "Beatrice", "Elisa", "Alice", "Asia", "Greta", "Nicole", "Rebecca"),
    ("Francesca", "Valentina", "Federica", "Laura", "Silvia", "Paola", "Antonella", "Roberta",
     "Simona", "Monica", "Barbara", "Daniela", "Cinzia", "Elena", "Stefania", "Manuela",
     "Tiziana", "Debora"),
    ("Giuseppina", "Carmela", "Rosa", "Concetta", "Maria", "Teresa", "Franca", "Anna", "Lucia",
     "Angela", "Rosaria", "Margherita", "Bruna", "Graziella"),
)  # fmt: skip

FOREIGN_ORIGINS: tuple[_Origin, ...] = (
    _Origin(
        key="ma",
        weight=14,
        surnames=(
            "El Amrani", "Benali", "Bouzid", "El Idrissi", "Ouali", "Lahlou", "Tahiri", "Chakir",
            "Boukhari", "El Fassi", "Zerouali", "Bennani", "Rachidi", "El Khatib", "Naciri",
            "Alaoui", "Hajji", "Moussaoui",
        ),
        male=(
            "Mohamed", "Youssef", "Ahmed", "Hassan", "Rachid", "Karim", "Omar", "Mustapha",
            "Abdelkader", "Said", "Hamza", "Abdellah", "Driss", "Khalid", "Noureddine",
        ),
        female=(
            "Fatima", "Khadija", "Amina", "Nadia", "Samira", "Latifa", "Zineb", "Malika",
            "Hanane", "Naima", "Rachida", "Souad", "Meryem", "Imane",
        ),
        languages=("ar", "fr"),
        birthplace="Z330",
        male_italy_born=("Adam", "Rayan", "Ilyas", "Amir", "Ayoub", "Yassine", "Anas"),
        female_italy_born=("Aya", "Nour", "Malak", "Hiba", "Sara", "Yasmine", "Lina", "Salma"),
    ),
    _Origin(
        key="ro",
        weight=12,
        surnames=(
            "Popescu", "Ionescu", "Popa", "Dumitru", "Stan", "Munteanu", "Constantin",
            "Georgescu", "Radu", "Stoica", "Marin", "Tudor", "Moldovan", "Ciobanu", "Rusu",
            "Dobre", "Lungu", "Nistor",
        ),
        male=(
            "Ion", "Mihai", "Andrei", "Alexandru", "Gheorghe", "Florin", "Vasile", "Adrian",
            "Cristian", "Ionuț", "Marius", "Bogdan", "Costel", "Ștefan",
        ),
        female=(
            "Maria", "Elena", "Ioana", "Andreea", "Mihaela", "Gabriela", "Florentina", "Alina",
            "Cristina", "Daniela", "Larisa", "Rodica", "Nicoleta", "Georgiana",
        ),
        languages=("ro",),
        birthplace="Z129",
        male_italy_born=("Luca", "David", "Gabriel", "Denis", "Darius", "Matei"),
        female_italy_born=("Sofia", "Alessia", "Bianca", "Giulia", "Denisa", "Melissa"),
        max_arrival_years=20,
    ),
    _Origin(
        key="pe",
        weight=7,
        surnames=(
            "Quispe", "Mamani", "Flores", "Huamán", "Rojas", "Vargas", "Torres", "Chávez",
            "Ramírez", "Mendoza", "Gutiérrez", "Castillo", "Sánchez", "Paredes", "Cárdenas",
        ),
        male=("José", "Luis", "Carlos", "Jorge", "Juan", "Miguel", "Víctor", "César", "Edwin",
              "Wilmer", "Percy", "Raúl"),
        female=("María", "Rosa", "Carmen", "Julia", "Ana", "Gladys", "Milagros", "Roxana",
                "Lucía", "Maritza", "Yolanda", "Elizabeth"),
        languages=("es",),
        birthplace="Z611",
        male_italy_born=("Mateo", "Santiago", "Thiago", "Dylan", "Sebastián", "Diego"),
        female_italy_born=("Valentina", "Camila", "Luana", "Ximena", "Sofía", "Valeria"),
    ),
    _Origin(
        key="ng",
        weight=6,
        surnames=(
            "Okafor", "Adeyemi", "Okonkwo", "Eze", "Nwosu", "Adebayo", "Osagie", "Igbinedion",
            "Omoregie", "Edosomwan", "Uwaifo", "Ehigiator", "Aigbe", "Obasuyi",
        ),
        male=("Osas", "Godwin", "Emmanuel", "Samuel", "Chinedu", "Efosa", "Osaze", "Peter",
              "Joseph", "Victor", "Friday", "Sunday"),
        female=("Blessing", "Joy", "Precious", "Gift", "Faith", "Mercy", "Esther", "Favour",
                "Grace", "Happiness", "Patience", "Osarumen"),
        languages=("en",),
        birthplace="Z335",
        male_italy_born=("Daniel", "David", "Miracle", "Divine", "Prince"),
        female_italy_born=("Precious", "Destiny", "Princess", "Vanessa", "Testimony"),
        max_arrival_years=15,
    ),
    _Origin(
        key="al",
        weight=6,
        surnames=(
            "Hoxha", "Shehu", "Leka", "Gjoka", "Dervishi", "Marku", "Prifti", "Basha", "Kola",
            "Cela", "Hysa", "Mema", "Gjini", "Zeneli", "Lika",
        ),
        male=("Arben", "Ilir", "Gentian", "Besnik", "Erion", "Klodian", "Altin", "Fatmir",
              "Dritan", "Arjan", "Ardit", "Endri"),
        female=("Elira", "Mirela", "Anila", "Valbona", "Entela", "Blerta", "Eralda", "Jonida",
                "Arta", "Lindita", "Manjola", "Ermira"),
        languages=("sq",),
        birthplace="Z100",
        male_italy_born=("Kevin", "Mattia", "Enea", "Noel", "Erik", "Ryan"),
        female_italy_born=("Sara", "Klea", "Greta", "Aurora", "Melissa", "Emily"),
        max_arrival_years=25,
    ),
    _Origin(
        key="sn",
        weight=5,
        surnames=(
            "Diop", "Ndiaye", "Fall", "Sow", "Gueye", "Diallo", "Sarr", "Mbaye", "Faye", "Cissé",
            "Niang", "Thiam", "Seck", "Kane", "Diouf",
        ),
        male=("Mamadou", "Moussa", "Ousmane", "Abdoulaye", "Cheikh", "Ibrahima", "Modou",
              "Babacar", "Pape", "Serigne", "Aliou", "Lamine"),
        female=("Fatou", "Aminata", "Awa", "Mariama", "Astou", "Khady", "Ndeye", "Coumba",
                "Aissatou", "Sokhna", "Binta", "Adama"),
        languages=("fr", "wo"),
        birthplace="Z343",
        male_italy_born=("Mohamed", "Ibrahima", "Adam", "Moustapha"),
        female_italy_born=("Fatou", "Aminata", "Mariama", "Awa"),
    ),
    _Origin(
        key="cn",
        weight=4,
        surnames=("Chen", "Wang", "Zhang", "Hu", "Lin", "Zhou", "Wu", "Ye", "Xu", "Huang", "Jin",
                  "Pan"),
        male=("Wei", "Jian", "Hao", "Ming", "Jun", "Lei", "Bo", "Tao", "Yong", "Qiang"),
        female=("Li", "Mei", "Xiaoli", "Ying", "Hui", "Fang", "Jing", "Yan", "Lihua", "Xue"),
        languages=("zh",),
        birthplace="Z210",
        male_italy_born=("Luca", "Marco", "Leo", "Alessio", "Kevin", "Davide"),
        female_italy_born=("Giulia", "Emma", "Sofia", "Alice", "Elisa", "Anna"),
    ),
    _Origin(
        key="eg",
        weight=5,
        surnames=(
            "Ibrahim", "Hassan", "Abdelrahman", "Mahmoud", "Farouk", "Salem", "Mostafa",
            "Abdelaziz", "Gaber", "Hamdy", "Soliman", "El Sayed", "Ramadan", "Fathy",
        ),
        male=("Ahmed", "Mohamed", "Mahmoud", "Mostafa", "Karim", "Tarek", "Amr", "Hossam",
              "Sherif", "Walid", "Ayman", "Hany"),
        female=("Fatma", "Mona", "Heba", "Nour", "Mariam", "Rania", "Dina", "Shaimaa", "Samah",
                "Eman", "Asmaa", "Doaa"),
        languages=("ar",),
        birthplace="Z336",
        male_italy_born=("Adam", "Youssef", "Omar", "Ziad", "Yassin", "Ali"),
        female_italy_born=("Malak", "Jana", "Salma", "Hana", "Nour", "Lina"),
        max_arrival_years=18,
    ),
    _Origin(
        key="ua",
        weight=5,
        surnames=(
            "Kovalenko", "Shevchenko", "Bondarenko", "Tkachenko", "Kravchenko", "Melnyk",
            "Boiko", "Koval", "Oliinyk", "Lysenko", "Marchenko", "Savchenko", "Rudenko", "Moroz",
        ),
        male=("Oleksandr", "Andrii", "Serhii", "Dmytro", "Ivan", "Mykola", "Vasyl", "Yurii",
              "Maksym", "Artem", "Bohdan", "Denys"),
        female=("Olena", "Oksana", "Nataliia", "Iryna", "Tetiana", "Svitlana", "Halyna",
                "Yuliia", "Anastasiia", "Sofiia", "Viktoriia", "Mariia", "Daryna"),
        languages=("ru", "uk"),
        birthplace="Z138",
        max_arrival_years=4,  # most arrived after February 2022
    ),
)  # fmt: skip

# Foreign-born origins are more frequent in the north and east of the city.
_FOREIGN_HEAVY = {5: 1.4, 6: 1.8, 7: 1.6, 8: 1.4}
_ITALIAN_HEAVY = {2: 1.8, 3: 1.5, 4: 1.3, 1: 1.1}


# Streets (real names, invented house numbers) ---------------------------------------------

STREETS: dict[int, tuple[str, ...]] = {
    1: ("via Sant'Agostino", "via Bligny", "via San Secondo", "corso Re Umberto", "via Sacchi",
        "via Legnano", "corso Galileo Ferraris", "via Cernaia", "via della Consolata"),
    2: ("corso Orbassano", "via Guido Reni", "strada delle Cacce", "via Onorato Vigliani",
        "corso Giovanni Agnelli", "via Fratelli Garrone", "via Emanuele Artom",
        "corso Sebastopoli", "via Tripoli"),
    3: ("via Di Nanni", "corso Racconigi", "via Monginevro", "corso Trapani", "via Frejus",
        "via Cesana", "corso Peschiera", "via Vincenzo Lancia", "via Bardonecchia",
        "via Pozzo Strada"),
    4: ("via San Donato", "via Nicola Fabrizi", "corso Svizzera", "via Cibrario",
        "corso Appio Claudio", "via Le Chiuse", "via Medici", "via Carrera"),
    5: ("via Chiesa della Salute", "via Stradella", "via Sospello", "corso Grosseto",
        "via Pianezza", "via delle Pervinche", "via dei Mughetti", "via Lanzo", "via Borgaro"),
    6: ("corso Giulio Cesare", "via Montanaro", "via Sempione", "corso Vercelli", "via Bologna",
        "via Monterosa", "via Mercadante", "corso Palermo", "via Gottardo", "corso Taranto",
        "via degli Ulivi", "via Petrella", "strada del Villaretto"),
    7: ("via Aosta", "via Cuneo", "via Catania", "via Vanchiglia", "via Buniva",
        "corso San Maurizio", "via Napione", "corso Casale", "lungo Dora Firenze", "via Parma",
        "via Priocca"),
    8: ("via Madama Cristina", "via Nizza", "via Saluzzo", "via Berthollet", "via Ormea",
        "via Baretti", "via Galliari", "via Genova", "via Passo Buole", "via Millefonti"),
}  # fmt: skip
# Turin's fictitious address for the registered residence of people without a home.
HOMELESS_ADDRESS = "via della Casa Comunale 1"

# Texts ------------------------------------------------------------------------------------

SECOND_BASKET_REASONS = (
    "Nucleo numeroso, secondo paniere autorizzato dall'assistente sociale",
    "Ritardo nell'erogazione dell'Assegno di inclusione: integrazione concordata con il servizio "
    "sociale",
    "Bambino piccolo nel nucleo: integrazione di prodotti per l'infanzia autorizzata",
    "Parenti sfrattati ospitati nel nucleo: secondo paniere concordato con il coordinamento",
)
GENERIC_NOTES = (
    "Inviato dal servizio sociale della circoscrizione.",
    "Percettore di Assegno di inclusione: verifica del patto ogni tre mesi.",
    "Bollette arretrate di luce e gas: attivato il fondo comunale per le utenze.",
    "Conosciuto allo snodo durante la distribuzione dei panieri.",
    "Segnalato dalla parrocchia del quartiere.",
    "Colloquio di accoglienza svolto; documenti ISEE consegnati.",
    "Interessato a un corso serale per ottenere la licenza media al CPIA.",
)
CLOSED_NOTES = (
    "Trasferito fuori Torino: presa in carico chiusa.",
    "Obiettivi del progetto raggiunti: contratto di lavoro a tempo indeterminato.",
    "Nucleo non più reperibile dopo tre tentativi di contatto.",
)


# Members ----------------------------------------------------------------------------------


@dataclass
class _Member:
    relation: str
    sex: str
    age: int
    origin: _Origin
    surname: str
    arrived_years_ago: int = 0  # foreign-born only
    bilingual_with: _Origin | None = None  # a child of a mixed couple


@dataclass
class _Plan:
    organization: Organization
    circoscrizione: int
    case_worker: User | None
    origin: _Origin
    template: str
    members: list[_Member] = field(default_factory=list)
    closed_days_ago: int | None = None
    no_privacy_notice: bool = False
    no_sharing: bool = False
    sharing_withdrawn: bool = False
    consent_expired: bool = False  # a consent for the job services that expired 3 weeks ago
    skip_basket_this_month: bool = False


TEMPLATES_ITALIAN = {
    "couple_kids": 18, "single_parent": 15, "single_adult": 15, "elderly_single": 12,
    "couple_elderly": 6, "parent_adult_kids": 14, "young_single": 8, "extended": 5,
    "siblings": 5, "cohabitant": 6,
}  # fmt: skip
TEMPLATES_FOREIGN = {
    "couple_kids": 30, "single_parent": 14, "single_adult": 14, "young_single": 10,
    "parent_adult_kids": 12, "extended": 10, "siblings": 7, "cohabitant": 7,
}  # fmt: skip
TEMPLATES_BY_ORIGIN = {
    "ua": {"single_parent": 40, "elderly_single": 15, "young_single": 10, "couple_kids": 15,
           "siblings": 5, "single_adult": 15},
    "ng": {"single_parent": 30, "couple_kids": 30, "young_single": 15, "single_adult": 15,
           "siblings": 10},
    "cn": {"couple_kids": 50, "extended": 20, "parent_adult_kids": 20, "single_adult": 10},
    "sn": {"single_adult": 40, "couple_kids": 25, "young_single": 20, "siblings": 10,
           "cohabitant": 5},
}  # fmt: skip


# Employment and education (codes of app.households.vocabulary) by age, with weights.
EMPLOYMENT_YOUTH = {
    "neet": 30, "student": 14, "precarious": 20, "unemployed": 15, "seeking_first_job": 13,
    "employed": 8,
}  # fmt: skip
EMPLOYMENT_MEN = {"unemployed": 30, "precarious": 25, "employed": 20, "unable": 5}
EMPLOYMENT_WOMEN = EMPLOYMENT_MEN | {"homemaker": 15, "seeking_first_job": 3}
EDUCATION_ABROAD = {
    "foreign_unrecognised": 45, "primary": 15, "lower_secondary": 15, "none": 10,
    "upper_secondary": 10, "degree": 5,
}  # fmt: skip
EDUCATION_YOUTH = {
    "lower_secondary": 35, "vocational": 25, "upper_secondary": 30, "degree": 5, "primary": 5,
}  # fmt: skip
EDUCATION_ADULTS = {
    "primary": 10, "lower_secondary": 45, "vocational": 20, "upper_secondary": 20, "degree": 5,
}  # fmt: skip
EDUCATION_YOUNGER_ADULTS = {
    "primary": 3, "lower_secondary": 45, "vocational": 22, "upper_secondary": 24, "degree": 6,
}  # fmt: skip
EDUCATION_ELDERLY = {"primary": 50, "none": 8, "lower_secondary": 30, "vocational": 12}


def _weighted(rng: random.Random, weights: dict[str, int] | dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _pick_origin(rng: random.Random, circoscrizione: int) -> _Origin:
    origins = (ITALIAN, *FOREIGN_ORIGINS)
    weights = [
        o.weight
        * (
            _ITALIAN_HEAVY.get(circoscrizione, 1.0)
            if o.italian
            else _FOREIGN_HEAVY.get(circoscrizione, 1.0)
        )
        for o in origins
    ]
    return rng.choices(origins, weights=weights)[0]


def _kid_ages(
    rng: random.Random,
    n: int,
    low: int,
    high: int,
    others: Sequence[int] = (),
    at_least_one: bool = True,
) -> list[int]:
    """Up to `n` ages in [low, high], two years apart from each other and from `others`
    (brothers and sisters are not born a month apart); one at least if `at_least_one`."""
    ages: list[int] = []
    for _ in range(n):
        free = [a for a in range(low, high + 1) if all(abs(a - b) >= 2 for b in (*ages, *others))]
        if not free:
            break
        ages.append(rng.choice(free))
    if n and at_least_one and not ages:
        ages.append(max(0, high))
    return sorted(ages, reverse=True)


def _other_surname(rng: random.Random, origin: _Origin, avoid: str) -> str:
    choices = [s for s in origin.surnames if s != avoid]
    return rng.choice(choices)


def _compose(rng: random.Random, origin: _Origin, template: str) -> list[_Member]:
    """The members of a household: the reference person first."""
    arrived = 0 if origin.italian else rng.randint(1, origin.max_arrival_years)
    surname = rng.choice(origin.surnames)

    def member(relation: str, sex: str, age: int, last: str) -> _Member:
        return _Member(relation, sex, age, origin, last, arrived_years_ago=arrived)

    members: list[_Member] = []
    if template == "single_adult":
        members.append(
            member("reference", "M" if rng.random() < 0.6 else "F", rng.randint(30, 64), surname)
        )
    elif template == "young_single":
        members.append(
            member("reference", "M" if rng.random() < 0.6 else "F", rng.randint(18, 29), surname)
        )
    elif template == "elderly_single":
        sex = "F" if rng.random() < 0.65 else "M"
        age = rng.randint(60, 72) if origin.key == "ua" else rng.randint(66, 89)
        members.append(member("reference", sex, age, surname))
    elif template == "couple_elderly":
        age = rng.randint(66, 85)
        members.append(member("reference", "M", age, surname))
        members.append(
            member(
                "partner",
                "F",
                max(65, age - rng.randint(0, 6)),
                _other_surname(rng, origin, surname),
            )
        )
    elif template in ("couple_kids", "extended"):
        ref_sex = "M" if rng.random() < 0.65 else "F"
        ref_age = rng.randint(24, 55) if template == "couple_kids" else rng.randint(30, 58)
        partner_age = max(
            19, ref_age + (rng.randint(-7, 1) if ref_sex == "M" else rng.randint(0, 6))
        )
        partner_surname = _other_surname(rng, origin, surname)
        partner_origin = origin
        if origin.italian and ref_sex == "M" and rng.random() < 0.2:
            partner_origin = rng.choice(
                [o for o in FOREIGN_ORIGINS if o.key in ("ro", "pe", "ua", "ma", "al")]
            )
            partner_surname = rng.choice(partner_origin.surnames)
        members.append(member("reference", ref_sex, ref_age, surname))
        partner = member("partner", "F" if ref_sex == "M" else "M", partner_age, partner_surname)
        if partner_origin is not origin:
            partner.origin = partner_origin
            partner.arrived_years_ago = rng.randint(5, min(20, partner_age - 10))
        members.append(partner)
        kids_surname = surname if ref_sex == "M" else partner_surname
        n_kids = rng.choices((1, 2, 3, 4), weights=(30, 35, 25, 10))[0]
        if template == "extended":
            n_kids = min(n_kids, 3)
        mother_age = partner_age if ref_sex == "M" else ref_age
        high = min(min(ref_age, partner_age) - 19, 27)
        for age in _kid_ages(rng, n_kids, max(0, mother_age - 43), high):
            kid = member("child", "M" if rng.random() < 0.5 else "F", age, kids_surname)
            if partner_origin is not origin:
                kid.bilingual_with = partner_origin
            members.append(kid)
        if template == "extended":
            parent_age = min(92, ref_age + rng.randint(22, 32))
            if rng.random() < 0.6:
                members.append(
                    member("parent", "F", parent_age, _other_surname(rng, origin, surname))
                )
            else:
                members.append(member("parent", "M", parent_age, surname))
    elif template == "single_parent":
        sex = "F" if rng.random() < 0.85 else "M"
        age = rng.randint(22, 52)
        members.append(member("reference", sex, age, surname))
        kids_surname = (
            surname if rng.random() < 0.6 or sex == "M" else _other_surname(rng, origin, surname)
        )
        n_kids = rng.choices((1, 2, 3), weights=(45, 40, 15))[0]
        low = max(0, age - 43) if sex == "F" else 0
        for kid_age in _kid_ages(rng, n_kids, low, min(age - 19, 24)):
            members.append(
                member("child", "M" if rng.random() < 0.5 else "F", kid_age, kids_surname)
            )
    elif template == "parent_adult_kids":
        sex = "F" if rng.random() < 0.5 else "M"
        age = rng.randint(46, 62)
        members.append(member("reference", sex, age, surname))
        kids_surname = surname
        if rng.random() < 0.6:
            partner_surname = _other_surname(rng, origin, surname)
            partner_age = max(40, age + rng.randint(-4, 4))
            members.append(
                member("partner", "F" if sex == "M" else "M", partner_age, partner_surname)
            )
            if sex == "F":
                kids_surname = partner_surname
        n_kids = rng.choices((1, 2, 3), weights=(35, 45, 20))[0]
        mother_age = age if sex == "F" or len(members) == 1 else members[1].age
        ages = _kid_ages(rng, n_kids, 18, min(29, age - 19))
        if rng.random() < 0.3:
            ages += _kid_ages(rng, 1, max(13, mother_age - 43), 17, ages, at_least_one=False)
        for kid_age in sorted(ages, reverse=True):
            members.append(
                member("child", "M" if rng.random() < 0.5 else "F", kid_age, kids_surname)
            )
    elif template == "siblings":
        members.append(
            member("reference", "M" if rng.random() < 0.5 else "F", rng.randint(21, 29), surname)
        )
        for sibling_age in _kid_ages(rng, rng.choice((1, 1, 2)), 18, 26, [members[0].age]):
            members.append(
                member("sibling", "M" if rng.random() < 0.5 else "F", sibling_age, surname)
            )
    else:  # cohabitant
        age = rng.randint(25, 60)
        members.append(member("reference", "M" if rng.random() < 0.5 else "F", age, surname))
        if rng.random() < 0.5:
            members.append(
                member(
                    "relative",
                    "M" if rng.random() < 0.5 else "F",
                    rng.randint(18, 28),
                    _other_surname(rng, origin, surname),
                )
            )
        else:
            members.append(
                member(
                    "other",
                    "M" if rng.random() < 0.5 else "F",
                    rng.randint(22, 60),
                    _other_surname(rng, origin, surname),
                )
            )
    return members[:6]


# Codice fiscale ---------------------------------------------------------------------------


def _letters(text: str) -> str:
    plain = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in plain.upper() if "A" <= ch <= "Z")


def _split(text: str) -> tuple[str, str]:
    letters = _letters(text)
    consonants = "".join(ch for ch in letters if ch not in "AEIOU")
    vowels = "".join(ch for ch in letters if ch in "AEIOU")
    return consonants, vowels


def surname_code(last_name: str) -> str:
    consonants, vowels = _split(last_name)
    return (consonants + vowels + "XXX")[:3]


def name_code(first_name: str) -> str:
    consonants, vowels = _split(first_name)
    if len(consonants) >= 4:
        return consonants[0] + consonants[2] + consonants[3]
    return (consonants + vowels + "XXX")[:3]


def codice_fiscale_body(
    last_name: str, first_name: str, birth_date: date, sex: str, place: str
) -> str:
    """The first 15 characters of the codice fiscale (everything but the check character)."""
    day = birth_date.day + (40 if sex == "F" else 0)
    return (
        f"{surname_code(last_name)}{name_code(first_name)}{birth_date.year % 100:02d}"
        f"{_MONTH_LETTERS[birth_date.month - 1]}{day:02d}{place}"
    )


def unique_codice_fiscale(body: str, taken: set[str]) -> str:
    """The complete code for `body`, or its first homocode variant that is not `taken`."""
    for n in range(len(_HOMOCODE_POSITIONS) + 1):
        chars = list(body)
        for pos in _HOMOCODE_POSITIONS[:n]:
            chars[pos] = _HOMOCODE_LETTERS[int(body[pos])]
        variant = "".join(chars)
        code = variant + codicefiscale.calc_check_digit(variant)
        if code not in taken:
            return code
    raise RuntimeError(f"Nessun codice fiscale libero per {body}")


# People -----------------------------------------------------------------------------------


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _birth_date(rng: random.Random, age: int, today: date) -> date:
    """A birth date giving exactly `age` years on `today`."""
    anniversary = _years_before(today, age)
    return anniversary - timedelta(days=rng.randint(20, 340) if age == 0 else rng.randint(0, 364))


def _first_name(rng: random.Random, m: _Member, born_in_italy: bool, taken: list[str]) -> str:
    origin = m.origin
    if origin.italian or m.bilingual_with is not None:
        generation = 0 if m.age <= 35 else (1 if m.age <= 62 else 2)
        pool = (IT_MALE if m.sex == "M" else IT_FEMALE)[generation]
    else:
        pool = origin.male if m.sex == "M" else origin.female
        italy_pool = origin.male_italy_born if m.sex == "M" else origin.female_italy_born
        if born_in_italy and italy_pool and rng.random() < 0.6:
            pool = italy_pool
    options = [n for n in pool if n not in taken] or list(pool)
    return rng.choice(options)


def _birthplace(rng: random.Random, m: _Member, born_in_italy: bool) -> str:
    if not born_in_italy:
        return m.origin.birthplace
    if not m.origin.italian or m.bilingual_with is not None:
        return TORINO if rng.random() < 0.9 else rng.choice(NEAR_TORINO)
    roll = rng.random()
    if m.age <= 40:
        if roll < 0.82:
            return TORINO
        return rng.choice(NEAR_TORINO) if roll < 0.9 else rng.choice(SOUTH)
    if roll < 0.5:
        return TORINO
    return rng.choice(SOUTH) if roll < 0.92 else rng.choice(OTHER_ITALY)


def _employment(rng: random.Random, m: _Member) -> str:
    if m.age < 16:
        return "child"
    if m.age < 18:
        return "student" if rng.random() < 0.8 else "neet"
    if m.age <= 29:
        return _weighted(rng, EMPLOYMENT_YOUTH)
    if m.age >= 67 or (m.age >= 63 and rng.random() < 0.6):
        return "homemaker" if m.sex == "F" and rng.random() < 0.25 else "retired"
    return _weighted(rng, EMPLOYMENT_WOMEN if m.sex == "F" else EMPLOYMENT_MEN)


def _education(rng: random.Random, m: _Member, schooled_in_italy: bool) -> str | None:
    if m.age < 11:
        return None
    if m.age < 14:
        return "primary"
    if m.age < 18:
        return "lower_secondary"
    if not schooled_in_italy:
        return _weighted(rng, EDUCATION_ABROAD)
    if m.age <= 29:
        education = _weighted(rng, EDUCATION_YOUTH)
        if m.age < 19 and education in ("upper_secondary", "degree"):
            return "vocational" if m.age >= 17 else "lower_secondary"
        return "upper_secondary" if m.age < 22 and education == "degree" else education
    if m.age <= 64:
        return _weighted(rng, EDUCATION_ADULTS if m.age >= 50 else EDUCATION_YOUNGER_ADULTS)
    return _weighted(rng, EDUCATION_ELDERLY)


def _languages(
    rng: random.Random, m: _Member, schooled_in_italy: bool, education: str | None
) -> list[str]:
    if m.bilingual_with is not None:
        return sorted({"it", m.bilingual_with.home_language})
    if m.origin.italian:
        if m.age < 40 and education in ("upper_secondary", "degree") and rng.random() < 0.5:
            return ["en", "it"]
        return ["it"]
    langs = set(m.origin.languages)
    if schooled_in_italy:
        langs = {m.origin.home_language, "it"}
        if m.origin.key == "ma" and m.age >= 12:
            langs.add("fr")
    elif m.arrived_years_ago >= 3 or rng.random() < 0.3:
        langs.add("it")
    return sorted(langs)


def _build_people(rng: random.Random, plan: _Plan, today: date, taken: set[str]) -> list[Person]:
    people: list[Person] = []
    first_names: list[str] = []
    for m in plan.members:
        born_in_italy = m.origin.italian or m.age < m.arrived_years_ago
        schooled_in_italy = born_in_italy or m.age - m.arrived_years_ago < 14
        if m.relation == "parent" and not m.origin.italian:
            m.arrived_years_ago = rng.randint(1, max(1, m.arrived_years_ago))
            born_in_italy = schooled_in_italy = False
        first = _first_name(rng, m, born_in_italy, first_names)
        first_names.append(first)
        birth = _birth_date(rng, m.age, today)
        body = codice_fiscale_body(
            m.surname, first, birth, m.sex, _birthplace(rng, m, born_in_italy)
        )
        code = unique_codice_fiscale(body, taken)
        if format_problem(code) is not None or consistency_problem(code, birth, m.sex) is not None:
            raise RuntimeError(f"Codice fiscale dimostrativo non valido: {code}")
        taken.add(code)
        education = _education(rng, m, schooled_in_italy)
        people.append(
            Person(
                first_name=first,
                last_name=m.surname,
                codice_fiscale=code,
                birth_date=birth,
                sex=m.sex,
                relation=m.relation,
                employment_status=_employment(rng, m),
                education=education,
                languages=_languages(rng, m, schooled_in_italy, education),
            )
        )
    return people


# Households -------------------------------------------------------------------------------


def _housing(rng: random.Random, plan: _Plan) -> str:
    alone = len(plan.members) == 1
    if alone and plan.template in ("single_adult", "young_single") and rng.random() < 0.08:
        return "homeless"
    weights = {
        "rented": 36,
        "social_housing": 18,
        "eviction_risk": 12,
        "guest": 10,
        "temporary": 6,
        "owned": 5,
        "other": 3,
    }
    if plan.circoscrizione in (2, 5, 6):  # Mirafiori, Vallette, Falchera: public housing
        weights["social_housing"] += 14
    if plan.template in ("elderly_single", "couple_elderly") and plan.origin.italian:
        weights["owned"] += 20
    if plan.origin.key == "ua":
        weights["guest"] += 20
        weights["temporary"] += 10
    return _weighted(rng, weights)


def _needs(rng: random.Random, plan: _Plan, people: list[Person], housing: str) -> list[str]:
    org = plan.organization
    adults = [p for p, m in zip(people, plan.members, strict=True) if 18 <= m.age <= 64]
    jobless = [
        p
        for p in adults
        if p.employment_status in ("unemployed", "seeking_first_job", "neet", "precarious")
    ]
    needs: list[str] = []
    if org.is_hub and rng.random() < 0.92:
        needs.append("food")
    if jobless and (org.is_job_service or rng.random() < 0.7):
        needs.append("work")
    if housing in ("eviction_risk", "guest", "homeless", "temporary"):
        needs.append("housing")
    if any("it" not in p.languages for p in people if p.employment_status != "child"):
        needs.append("language")
    if any(p.employment_status == "neet" for p in people) and rng.random() < 0.6:
        needs.append("training")
    small_kids = any(m.age < 6 for m in plan.members)
    if small_kids and plan.template == "single_parent" and rng.random() < 0.7:
        needs.append("childcare")
    if not plan.origin.italian and rng.random() < 0.25:
        needs.append("documents")
    if housing == "eviction_risk" or rng.random() < 0.15:
        needs.append("debt")
    if any(m.age >= 70 for m in plan.members) or any(
        p.employment_status == "unable" for p in people
    ):
        needs.append("health")
    if rng.random() < 0.1:
        needs.append("digital")
    if not needs:
        needs.append("food" if org.is_hub else "work")
    return needs[:4]


def _address(rng: random.Random, circoscrizione: int, housing: str) -> str:
    if housing == "homeless":
        return HOMELESS_ADDRESS
    street = rng.choice(STREETS[circoscrizione])
    top = 300 if street.startswith("corso") else 160
    number = str(rng.randint(1, top))
    if rng.random() < 0.08:
        number += rng.choice(("/A", "/B", " bis"))
    return f"{street} {number}"


def _notes(rng: random.Random, plan: _Plan, people: list[Person], housing: str) -> str | None:
    if plan.closed_days_ago is not None:
        return rng.choice(CLOSED_NOTES)
    specific: list[str] = []
    if housing == "eviction_risk":
        specific.append("Sfratto per morosità incolpevole: udienza di convalida già fissata.")
    if housing == "guest":
        specific.append("Ospitati da parenti in un alloggio sovraffollato.")
    if housing == "homeless":
        specific.append(
            "Dorme in dormitorio; residenza anagrafica fittizia in via della Casa Comunale."
        )
    if any(p.employment_status == "neet" for p in people):
        specific.append("Un giovane del nucleo ha lasciato la scuola: proporre un percorso NEET.")
    if plan.template == "single_parent" and any(m.age < 11 for m in plan.members):
        specific.append("Genitore solo con figli piccoli: cerca un lavoro part-time.")
    if plan.origin.key == "ua":
        specific.append("Arrivo dall'Ucraina dopo il febbraio 2022, con protezione temporanea.")
    if plan.template == "elderly_single":
        specific.append("Persona anziana sola, segue le attività del centro d'incontro.")
    if any("it" not in p.languages for p in people):
        specific.append("Difficoltà con l'italiano: serve un mediatore ai colloqui.")
    roll = rng.random()
    if roll < 0.2:
        return None
    if specific and roll < 0.75:
        return rng.choice(specific)
    return rng.choice(GENERIC_NOTES)


def _isee(rng: random.Random, housing: str) -> Decimal | None:
    if rng.random() < (0.35 if housing in ("homeless", "guest") else 0.07):
        return None
    if housing == "homeless":
        cents = 0
    elif rng.random() < 0.7:
        cents = rng.randint(0, 900_000)
    else:
        cents = rng.randint(900_000, 1_500_000)
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), ROME).astimezone(UTC)


def _plans(
    rng: random.Random, organizations: Sequence[Organization], users: dict[str, User]
) -> list[_Plan]:
    """Who owns each household and where it lives, then its members."""
    ente1, ente2 = organizations[0], organizations[1]
    owners: list[tuple[Organization, int, User | None]] = []
    owners += [(ente1, c, users["ente1"]) for c in ENTE1_DISTRICTS]
    owners += [(ente2, c, users["ente2"]) for c in ENTE2_DISTRICTS]
    for org in organizations[2:]:
        if not org.active or not (org.is_hub or org.is_job_service):
            continue
        count = HOUSEHOLDS_PER_HUB if org.is_hub else HOUSEHOLDS_PER_JOB_SERVICE
        for _ in range(count):
            home = org.circoscrizione
            district = home if rng.random() < 0.7 else rng.choice(sorted(NEIGHBOURS[home]))
            owners.append((org, district, None))
    plans = []
    for org, district, worker in owners:
        origin = _pick_origin(rng, district)
        template = _weighted(
            rng,
            TEMPLATES_BY_ORIGIN.get(
                origin.key, TEMPLATES_ITALIAN if origin.italian else TEMPLATES_FOREIGN
            ),
        )
        plan = _Plan(org, district, worker, origin, template)
        plan.members = _compose(rng, origin, template)
        plans.append(plan)

    # Fixed situations the demo shows (positions within each owner's households).
    ente1_plans = [p for p in plans if p.organization is ente1]
    ente2_plans = [p for p in plans if p.organization is ente2]
    others = [p for p in plans if p.organization not in (ente1, ente2)]
    ente1_plans[-1].closed_days_ago = 7 * 365 + 80  # anonymisable
    ente1_plans[-2].closed_days_ago = 95
    ente2_plans[-1].closed_days_ago = 6 * 365 + 200  # anonymisable
    for position, days in ((10, 40), (20, 8 * 365 + 30), (30, 420), (50, 900)):
        if position < len(others):
            others[position].closed_days_ago = days
    ente1_plans[4].sharing_withdrawn = True
    ente1_plans[3].no_sharing = ente1_plans[11].no_sharing = True
    ente1_plans[3].consent_expired = ente1_plans[11].consent_expired = True
    ente1_plans[7].no_privacy_notice = True
    ente2_plans[2].no_sharing = True
    if len(others) > 15:
        others[15].no_privacy_notice = True
    for plan in ente1_plans[:ENTE1_WITHOUT_BASKET_THIS_MONTH]:
        plan.skip_basket_this_month = True
    return plans


# What the household authorised before the ledger, as the consents the migration makes of it.
_SCOPE_PURPOSES = {
    "job_services": ("job_services",),
    "housing": ("housing",),
    "all_partners": ("job_services", "housing", "project"),
}


@dataclass
class _ConsentPlan:
    purposes: tuple[str, ...]
    given_on: date
    expires_on: date | None
    withdrawn_on: date | None
    signed_form: str


def _household(
    rng: random.Random, plan: _Plan, people: list[Person], today: date
) -> tuple[Household, _ConsentPlan | None]:
    housing = _housing(rng, plan)
    closed_on = (
        None if plan.closed_days_ago is None else today - timedelta(days=plan.closed_days_ago)
    )
    if closed_on is not None:
        intake = closed_on - timedelta(days=rng.randint(200, 900))
    elif rng.random() < 0.2:
        intake = today - timedelta(days=rng.randint(20, 150))  # taken in charge recently
    else:
        intake = today - timedelta(days=rng.randint(150, 1400))
    isee = _isee(rng, housing)
    isee_expires_on = None
    if isee is not None:
        if closed_on is not None:
            isee_expires_on = closed_on + timedelta(days=rng.randint(30, 300))
        elif rng.random() < 0.07:
            isee_expires_on = today - timedelta(days=rng.randint(3, 150))  # expired
        else:
            isee_expires_on = today + timedelta(days=rng.randint(30, 365))
    worker = plan.case_worker
    privacy_on = None if plan.no_privacy_notice else intake
    sharing_scope = authorised_on = withdrawn_on = None
    if (
        privacy_on is not None
        and not plan.no_sharing
        and (plan.sharing_withdrawn or rng.random() < 0.85)
    ):
        needs_housing = housing in ("eviction_risk", "guest", "homeless", "temporary")
        sharing_scope = _weighted(
            rng,
            {"job_services": 50, "all_partners": 35, "housing": 25 if needs_housing else 0},
        )
        authorised_on = min(privacy_on + timedelta(days=rng.choice((0, 0, 0, 7, 14))), today)
        if plan.sharing_withdrawn:
            withdrawn_on = max(authorised_on, today - timedelta(days=rng.randint(10, 60)))
    created = _at(intake, 9 + rng.randint(0, 7), rng.choice((0, 15, 30, 45)))
    household = Household(
        organization_id=plan.organization.id,
        case_worker_id=worker.id if worker is not None else None,
        address=_address(rng, plan.circoscrizione, housing),
        circoscrizione=plan.circoscrizione,
        isee_value=isee,
        isee_expires_on=isee_expires_on,
        housing_situation=housing,
        needs=_needs(rng, plan, people, housing),
        notes=_notes(rng, plan, people, housing),
        status="closed" if closed_on is not None else "active",
        closed_on=closed_on,
        closing_reason="goals_met" if closed_on is not None else None,
        privacy_notice_on=privacy_on,
        privacy_notice_by_id=worker.id if worker is not None and privacy_on else None,
        created_at=created,
        updated_at=created,
        members=people,
    )
    for person in people:
        person.created_at = person.updated_at = created
    consent = None
    if sharing_scope is not None and authorised_on is not None:
        # Signed in the last year: a ledger consent of 12 months; older: an authorisation
        # recorded before the ledger, moved into it "fino a revoca" (as migration 0023 does).
        recent = authorised_on > today - timedelta(days=330)
        consent = _ConsentPlan(
            _SCOPE_PURPOSES[sharing_scope],
            authorised_on,
            add_months(authorised_on, DEFAULT_MONTHS) if recent else None,
            withdrawn_on,
            f"Prot. {authorised_on:%Y/%m%d}" if recent else LEDGER_NOTE,
        )
    elif plan.consent_expired and privacy_on is not None:
        given = max(privacy_on, today - timedelta(days=400))
        consent = _ConsentPlan(
            ("job_services",),
            given,
            today - timedelta(days=21),
            None,
            f"Prot. {given:%Y/%m%d}",
        )
    return household, consent


def _consents(
    households: list[Household],
    consents: list[_ConsentPlan | None],
    users: dict[str, User],
    today: date,
) -> list[Consent]:
    """The ledger of the demo households; three consents of ente1's expire within 30 days."""
    rows: list[Consent] = []
    soon = [10, 19, 27]
    ente1_org = users["ente1"].organization_id
    for household, spec in zip(households, consents, strict=True):
        if spec is None:
            continue
        expires_on = spec.expires_on
        signed_form = spec.signed_form
        if (
            soon
            and household.organization_id == ente1_org
            and household.status == "active"
            and spec.withdrawn_on is None
            and expires_on is None
        ):
            expires_on = today + timedelta(days=soon.pop(0))  # renewed last year, expiring now
            signed_form = f"Prot. {spec.given_on.year}/{household.id:04d}"
        recorder = household.case_worker_id
        for purpose in spec.purposes:
            rows.append(
                Consent(
                    household_id=household.id,
                    purpose=purpose,
                    recipient_organization_id=None,
                    given_on=spec.given_on,
                    expires_on=expires_on,
                    withdrawn_on=spec.withdrawn_on,
                    signed_form=signed_form,
                    recorded_by_id=recorder,
                    created_at=_at(spec.given_on, 10, 0),
                )
            )
    return rows


# Distributions ----------------------------------------------------------------------------


def _month_starts(today: date, count: int) -> list[date]:
    starts = [today.replace(day=1)]
    while len(starts) < count:
        previous = starts[0] - timedelta(days=1)
        starts.insert(0, previous.replace(day=1))
    return starts


def _next_month(start: date) -> date:
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def _basket_quantity(rng: random.Random, size: int) -> int:
    if size <= 2:
        return 1
    if size <= 4:
        return 2 if rng.random() < 0.6 else 1
    return 3 if rng.random() < 0.5 else 2


def _distributions(
    rng: random.Random,
    plan: _Plan,
    household: Household,
    hub_sites: list[Site],
    operator: User | None,
    today: date,
) -> list[Distribution]:
    site = hub_sites[0] if len(hub_sites) == 1 else rng.choice(hub_sites)
    open_days = {_WEEKDAYS[d] for d in site.distribution_days if d in _WEEKDAYS} or set(range(6))
    months = _month_starts(today, MONTHS_OF_DISTRIBUTIONS)
    start = max(months[0], household.privacy_notice_on or household.created_at.date())
    end = min(today, household.closed_on or today)
    size = len(plan.members)
    rows: list[Distribution] = []

    def add(day: date, kind: str, quantity: int, reason: str | None = None) -> None:
        rows.append(
            Distribution(
                household=household,
                site_id=site.id,
                organization_id=site.organization_id,
                distributed_on=day,
                kind=kind,
                quantity=quantity,
                operator_id=operator.id if operator is not None else None,
                override_reason=reason,
                created_at=_at(day, 9 + rng.randint(0, 3), rng.choice((5, 20, 35, 50))),
            )
        )

    for month in months:
        low, high = max(start, month), min(end, _next_month(month) - timedelta(days=1))
        days = [
            low + timedelta(days=k)
            for k in range((high - low).days + 1)
            if (low + timedelta(days=k)).weekday() in open_days
        ]
        this_month = month == months[-1]
        if not days and this_month and low <= high:
            # No opening day of the hub yet this month: an extraordinary distribution.
            days = [
                low + timedelta(days=k)
                for k in range((high - low).days + 1)
                if (low + timedelta(days=k)).weekday() < 6
            ] or [high]
        if not days:
            continue
        if this_month and plan.skip_basket_this_month:
            continue
        if rng.random() > (0.8 if this_month else 0.9):
            continue
        day = rng.choice(days)
        add(day, "food_basket", _basket_quantity(rng, size))
        later = [d for d in days if d > day]
        if later and rng.random() < (0.12 if size >= 4 else 0.03):
            reason = SECOND_BASKET_REASONS[0] if size >= 5 else rng.choice(SECOND_BASKET_REASONS)
            add(rng.choice(later), "food_basket", 1, reason)
        if rng.random() < 0.3:
            other_day = day if rng.random() < 0.6 else rng.choice(days)
            add(other_day, "basic_necessities", rng.randint(1, 2))
    return rows


# Entry point -------------------------------------------------------------------------------


def seed_households(
    organizations: list[Organization], users: dict[str, User], today: date
) -> dict[str, int]:
    """Add the demo households, their members and distributions (flushed, not committed) and
    return how many of each: {"nuclei": ..., "persone": ..., "distribuzioni": ...}."""
    rng = random.Random(SEED)
    plans = _plans(rng, organizations, users)
    taken: set[str] = set()
    households: list[Household] = []
    consent_plans: list[_ConsentPlan | None] = []
    for plan in plans:
        people = _build_people(rng, plan, today, taken)
        household, consent = _household(rng, plan, people, today)
        households.append(household)
        consent_plans.append(consent)
    db.session.add_all(households)
    db.session.flush()
    db.session.add_all(_consents(households, consent_plans, users, today))

    ente1_org = organizations[0]
    hub_sites: dict[int, list[Site]] = {
        org.id: [s for s in org.sites if s.is_hub]
        for org in organizations
        if org.is_hub and org.active
    }
    distributions: list[Distribution] = []
    for plan, household in zip(plans, households, strict=True):
        sites = hub_sites.get(plan.organization.id)
        if not sites:
            continue
        operator = users["ente1"] if plan.organization is ente1_org else None
        distributions += _distributions(rng, plan, household, sites, operator, today)
    db.session.add_all(distributions)
    db.session.flush()

    counts = {
        "nuclei": len(households),
        "persone": sum(len(h.members) for h in households),
        "distribuzioni": len(distributions),
    }
    record("demo_households_loaded", changes=counts, actor=None)
    return counts
