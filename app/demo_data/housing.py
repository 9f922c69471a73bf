"""The demo's housing: the units of the providers, the placement stories, the eviction-prevention
cases and the notes of the well-being checks (see `app.housing.demo` for how they are played)."""

from __future__ import annotations

from dataclasses import dataclass

from app.housing import operations

# Why a household outside a unit's target groups is proposed there, when its story says nothing.
DEFAULT_TARGET_REASON = (
    "Nessun altro posto libero adatto al nucleo in tempi utili: soluzione ponte concordata con "
    "il gestore in attesa di un alloggio dedicato."
)


# Units ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitSpec:
    """A unit as its provider registered it. `free` are its free places at the end of the story;
    the guests placed outside the portal fill the rest. `updated` is the provider's last
    confirmation (days before today), when `change` places were freed (+) or taken (-) outside
    the portal."""

    key: str
    provider: int  # organization index
    name: str
    kind: str
    address: str
    circoscrizione: int
    capacity: int
    target_groups: tuple[str, ...]
    monthly_cost: str | None
    free: int
    created: int  # days before today
    updated: int
    change: int = 0
    accessible: bool = False
    max_stay_days: int | None = None
    notes: str | None = None
    active: bool = True


UNITS: tuple[UnitSpec, ...] = (
    # alloggi1: Fondazione Casa Solidale Torino ---------------------------------------------
    UnitSpec(
        "pilone", 2, "Residenza temporanea Madonna del Pilone", "temporary_flat",
        "corso Casale 180", 7, 18, ("families", "women_with_children"), "450.00", 5, 290, 1,
        accessible=True, max_stay_days=365,
        notes="Sei bilocali arredati con cucina, fino a tre persone ciascuno; educatrice "
        "presente dal lunedì al venerdì.",
    ),
    UnitSpec(
        "vanchiglia", 2, "Coabitazione giovani Vanchiglia", "co_housing", "via Vanchiglia 18",
        7, 5, ("young_people",), "280.00", 1, 280, 2, change=1, max_stay_days=540,
        notes="Cinque camere singole con spazi comuni; patto di coabitazione con un tutor.",
    ),
    UnitSpec(
        "barriera", 2, "Alloggi ponte Barriera di Milano", "temporary_flat", "via Montanaro 42",
        6, 4, ("families",), "420.00", 0, 270, 3, max_stay_days=365,
        notes="Quattro appartamenti per famiglie con figli in uscita da uno sfratto.",
    ),
    UnitSpec(
        "san_donato", 2, "Posti letto di pronta accoglienza San Donato", "night_shelter_bed",
        "via Medici 21", 4, 12, ("single_men", "refugees"), "540.00", 3, 300, 1, change=-1,
        max_stay_days=180,
        notes="Accesso dalle 19:00 alle 8:00; cena e colazione comprese.",
    ),
    UnitSpec(
        "crocetta", 2, "Casa Crocetta", "social_housing", "via Sacchi 35", 1, 3,
        ("families", "elderly"), "350.00", 1, 295, 12, accessible=True,
        notes="Tre alloggi a canone sociale al piano terreno, con ascensore.",
    ),
    UnitSpec(
        "mirafiori", 2, "Alloggi sociali Mirafiori Sud", "social_housing",
        "via Onorato Vigliani 102", 2, 4, ("families", "disabled"), "320.00", 0, 260, 4,
        accessible=True,
    ),
    UnitSpec(
        "pozzo_strada", 2, "Famiglie accoglienti Pozzo Strada", "family_hosting",
        "via Bardonecchia 77", 3, 1, ("young_people", "refugees"), "400.00", 0, 250, 9,
        max_stay_days=365,
        notes="Una famiglia ospita un giovane in una camera con bagno; rimborso spese mensile.",
    ),
    UnitSpec(
        "lingotto", 2, "Co-housing Lingotto", "co_housing", "via Passo Buole 18", 8, 6,
        ("single_women", "young_people"), "300.00", 1, 240, 5, max_stay_days=540,
    ),
    UnitSpec(
        "vallette", 2, "Alloggi temporanei Vallette", "temporary_flat",
        "via delle Pervinche 36", 5, 3, ("families", "refugees"), "430.00", 2, 285, 23,
        max_stay_days=365,
    ),
    UnitSpec(
        "cibrario", 2, "Monolocale accessibile via Cibrario", "temporary_flat",
        "via Cibrario 60", 4, 1, ("disabled", "elderly"), "380.00", 0, 275, 2, accessible=True,
        notes="Monolocale senza barriere architettoniche, bagno attrezzato.",
    ),
    UnitSpec(
        "buniva", 2, "Alloggio di via Buniva", "temporary_flat", "via Buniva 14", 7, 2,
        ("families",), "400.00", 0, 230, 40,
        notes="In ristrutturazione dopo un'infiltrazione d'acqua: riapre in primavera.",
        active=False,
    ),
    # Associazione San Salvario Accoglie APS --------------------------------------------------
    UnitSpec(
        "madama_cristina", 7, "Appartamenti di via Madama Cristina", "temporary_flat",
        "via Madama Cristina 94", 8, 4, ("families", "women_with_children", "refugees"),
        "400.00", 1, 300, 3, max_stay_days=365,
    ),
    UnitSpec(
        "millefonti", 7, "Coabitazione solidale Nizza Millefonti", "co_housing",
        "via Millefonti 20", 8, 4, ("single_men", "refugees"), "250.00", 2, 210, 4,
        max_stay_days=365,
    ),
    UnitSpec(
        "san_salvario", 7, "Famiglie accoglienti San Salvario", "family_hosting",
        "via Berthollet 12", 8, 2, ("young_people", "refugees"), "380.00", 1, 200, 6,
    ),
    UnitSpec(
        "borgo_po", 7, "Alloggio sociale Borgo Po", "social_housing", "via Monferrato 9", 8, 2,
        ("elderly",), "300.00", 1, 190, 5, accessible=True,
    ),
    # Congregazione Suore del Buon Cammino ----------------------------------------------------
    UnitSpec(
        "buon_cammino", 12, "Casa di ospitalità Buon Cammino", "temporary_flat",
        "corso Casale 212", 7, 8, ("women_with_children", "single_women"), "380.00", 2, 310, 2,
        accessible=True, max_stay_days=540,
        notes="Camere per mamme con bambini, cucina comune, spazio compiti il pomeriggio.",
    ),
    UnitSpec(
        "aurora", 12, "Posti letto per donne Aurora", "night_shelter_bed", "via Aosta 24", 7,
        10, ("single_women",), "450.00", 4, 305, 1, change=1, max_stay_days=120,
    ),
    UnitSpec(
        "regio_parco", 12, "Accoglienza in famiglia Regio Parco", "family_hosting",
        "via Bologna 220", 6, 1, ("women_with_children",), "400.00", 0, 180, 3,
    ),
    UnitSpec(
        "crocetta_mamme", 12, "Alloggio mamme e bambini Crocetta", "temporary_flat",
        "corso Galileo Ferraris 110", 1, 2, ("women_with_children",), "360.00", 1, 160, 14,
        max_stay_days=365,
    ),
    # Associazione Borgo Vittoria Accoglienza ODV ---------------------------------------------
    UnitSpec(
        "borgo_vittoria", 13, "Pronta accoglienza Borgo Vittoria", "night_shelter_bed",
        "via Chiesa della Salute 77", 5, 14, ("single_men",), "420.00", 5, 300, 1,
        max_stay_days=90, notes="Posti letto in camere da quattro; docce e lavanderia.",
    ),
    UnitSpec(
        "falchera", 13, "Dormitorio Falchera", "night_shelter_bed", "strada del Villaretto 33",
        6, 10, ("single_men", "single_women"), "400.00", 3, 290, 2, change=-2,
        max_stay_days=60,
    ),
    UnitSpec(
        "lucento", 13, "Co-housing Lucento", "co_housing", "via Pianezza 80", 5, 5,
        ("young_people",), "260.00", 1, 220, 3,
    ),
    UnitSpec(
        "santa_rita", 13, "Alloggi temporanei Santa Rita", "temporary_flat",
        "corso Sebastopoli 140", 2, 3, ("families",), "420.00", 1, 250, 2, max_stay_days=365,
    ),
    UnitSpec(
        "cenisia", 13, "Foresteria Cenisia", "co_housing", "via Frejus 60", 3, 4,
        ("refugees", "single_men"), "280.00", 2, 240, 19, max_stay_days=365,
    ),
)  # fmt: skip


# Placements ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlacementSpec:
    """One placement's story. `days` are working days before today: the proposal, then one per
    step. `checks` are the follow-ups recorded during a stay still going on, in order: (days
    after the due date, well-being); an ended stay had every follow-up that fell due. `owner`
    is the organization index of the household's owner (None: any organization without a demo
    account); `shape` the kind of household wanted."""

    unit: str
    owner: int | None
    shape: str
    steps: tuple[tuple[str, str | None], ...]
    days: tuple[int, ...]
    motivation: str
    note: str | None = None  # the note of the last step with a reason
    checks: tuple[tuple[int, str], ...] = ()
    same_as: int | None = None  # the household of an earlier story (by index)
    eviction: bool = False  # prefer a household at risk of eviction
    by_city: bool = False  # the City proposes instead of the owning organization
    # Why it is proposed although the household is not among the unit's target groups.
    target_reason: str | None = None

    @property
    def final_status(self) -> str:
        return operations.STEPS[self.steps[-1][0]].target if self.steps else "proposed"


APPROVE = (("approve", None),)
ACCEPT = (*APPROVE, ("accept", None))
MOVE_IN = (*ACCEPT, ("move_in", None))

PLACEMENTS: tuple[PlacementSpec, ...] = (
    # 0, 1: ente1's homeless man, declined by the family flats, then in the night shelter.
    PlacementSpec(
        "barriera", 0, "single", (*APPROVE, ("decline", "target_mismatch")), (84, 83, 81),
        "Dorme in auto da due mesi dopo la fine del contratto d'affitto; lavora a chiamata "
        "nei mercati.",
        "Gli alloggi di via Montanaro sono riservati alle famiglie con figli.",
    ),
    PlacementSpec(
        "san_donato", 0, "single", MOVE_IN, (78, 77, 75, 72),
        "Dopo il rifiuto degli alloggi ponte, un posto letto stabile per cercare lavoro con "
        "continuità.",
        checks=((1, "good"), (3, "some_difficulties")),
        same_as=0,
    ),
    # 2: ente1's young worker in co-housing.
    PlacementSpec(
        "vanchiglia", 0, "young", MOVE_IN, (58, 57, 55, 52),
        "Giovane lavoratore senza casa, ospite di amici a rotazione: il contratto a termine non "
        "basta per un affitto.",
        checks=((0, "good"), (2, "good")),
    ),
    # 3: ente1, eviction executed soon: proposal waiting for the City.
    PlacementSpec(
        "pilone", 0, "adults", (), (2,),
        "Esecuzione dello sfratto fissata tra meno di tre settimane: serve una soluzione ponte "
        "mentre si cerca un nuovo affitto.",
        eviction=True,
    ),
    # 4: ente1, family with an eviction notice: approved, waiting for alloggi1.
    PlacementSpec(
        "barriera", 0, "family", APPROVE, (6, 3),
        "Famiglia numerosa con sfratto per morosità incolpevole: udienza imminente, figli "
        "iscritti alle scuole del quartiere.",
        eviction=True,
    ),
    # 5: ente2's young siblings, out of their flat, in co-housing; first check overdue.
    PlacementSpec(
        "lingotto", 1, "young", MOVE_IN, (25, 24, 23, 21),
        "Giovani rimasti senza casa dopo lo sfratto: chiedono di restare insieme.",
        eviction=True,
    ),
    # 6, 7: ente2's large family, refused by the City for the shelter, then accepted.
    PlacementSpec(
        "san_donato", 1, "family", (("reject", "unsuitable_unit"),), (45, 44),
        "Ospitati da parenti in un alloggio sovraffollato, chiedono una sistemazione urgente.",
        "Posti letto in dormitorio maschile: non adatti a una famiglia con bambini.",
    ),
    PlacementSpec(
        "mirafiori", 1, "family", ACCEPT, (12, 10, 4),
        "Dopo il rifiuto del dormitorio, un alloggio sociale vicino alle scuole dei figli.",
        same_as=6,
    ),
    # 8: ente2, cancelled after the approval.
    PlacementSpec(
        "vallette", 1, "family", (*APPROVE, ("cancel", "other_solution")), (30, 29, 27),
        "Famiglia ospite di amici, in attesa della casa popolare.",
        "Il nucleo è rientrato nell'alloggio di famiglia a Grugliasco.",
    ),
    # 9-14: active stays of other organizations' households.
    PlacementSpec(
        "buon_cammino", None, "mother", MOVE_IN, (100, 99, 98, 95),
        "Mamma sola con tre bambini piccoli, uscita da una situazione di violenza domestica.",
        checks=((0, "good"), (2, "good"), (-1, "some_difficulties"), (1, "good")),
    ),
    PlacementSpec(
        "madama_cristina", None, "parent", MOVE_IN, (64, 63, 62, 60),
        "Genitore solo con un bambino in età prescolare, senza rete familiare a Torino.",
        checks=((4, "some_difficulties"),),
    ),
    PlacementSpec(
        "pozzo_strada", None, "young", MOVE_IN, (45, 44, 42, 40),
        "Diciannovenne uscito da una comunità per minori, senza famiglia su cui contare.",
        checks=((-2, "critical"),),
    ),
    PlacementSpec(
        "borgo_vittoria", None, "single", MOVE_IN, (30, 29, 28, 26),
        "Ha perso il posto letto in affitto con la fine del lavoro stagionale.",
    ),
    PlacementSpec(
        "cenisia", None, "single", MOVE_IN, (90, 89, 88, 86),
        "Rifugiato con protezione internazionale, in uscita dal sistema di accoglienza.",
        checks=((0, "good"), (1, "good"), (0, "good")),
    ),
    PlacementSpec(
        "cibrario", None, "disabled", MOVE_IN, (140, 139, 137, 133),
        "Persona con invalidità che non riesce più a salire al quarto piano senza ascensore.",
        checks=((0, "good"), (2, "good"), (0, "some_difficulties"), (1, "good"), (0, "good")),
    ),
    # 15-19: ended stays.
    PlacementSpec(
        "crocetta", None, "elderly", (*MOVE_IN, ("end", "social_housing")),
        (175, 174, 172, 168, 12),
        "Coppia anziana sfrattata per finita locazione, in graduatoria per la casa popolare.",
        "Assegnato un alloggio di edilizia residenziale pubblica in via Artom.",
    ),
    PlacementSpec(
        "falchera", None, "single", (*MOVE_IN, ("end", "dropped_out")), (110, 109, 108, 106, 70),
        "Senza dimora da un anno, accetta un posto letto per l'inverno.",
        "Non rientra in struttura da cinque notti; il cellulare è spento.",
    ),
    PlacementSpec(
        "madama_cristina", None, "family", (*MOVE_IN, ("end", "own_home")),
        (185, 184, 182, 178, 40),
        "Famiglia con due figli sfrattata: serve un alloggio ponte mentre i genitori cercano "
        "casa.",
        "Contratto d'affitto a canone concordato in Barriera di Milano.",
    ),
    PlacementSpec(
        "vallette", None, "family", (*MOVE_IN, ("end", "max_stay")), (290, 289, 287, 284, 30),
        "Famiglia con un figlio disabile, uscita da un alloggio non più sicuro.",
        "Raggiunti i dodici mesi di permanenza; proseguono i contatti per l'assegnazione ATC.",
    ),
    PlacementSpec(
        "santa_rita", None, "adults", (*MOVE_IN, ("end", "family")), (95, 94, 93, 91, 55),
        "Padre e figlio neomaggiorenne rimasti senza casa dopo la separazione dei genitori.",
        "Rientrati presso la nonna a Nichelino.",
    ),
    # 20, 21: declined by alloggi1's co-housing, now proposed in Lucento.
    PlacementSpec(
        "lingotto", None, "young", (*APPROVE, ("decline", "household_refused")), (20, 19, 17),
        "Giovane NEET ospite di conoscenti, chiede una soluzione abitativa per iniziare un "
        "tirocinio.",
        "Al colloquio ha preferito restare vicino al suo quartiere.",
    ),
    PlacementSpec(
        "lucento", None, "young", (), (3,),
        "Dopo la rinuncia al Lingotto, un co-housing vicino al quartiere dove ha i suoi amici.",
        same_as=20,
    ),
    # 22: proposed by the City in a night shelter.
    PlacementSpec(
        "san_donato", None, "single", (), (1,),
        "Segnalato dal servizio di strada: dorme alla stazione di Porta Susa.",
        by_city=True,
    ),
    # 23, 24: approved, waiting for the provider.
    PlacementSpec(
        "regio_parco", None, "mother", APPROVE, (4, 2),
        "Mamma con una bambina, ospite di un'amica che deve lasciare l'alloggio.",
    ),
    PlacementSpec(
        "lingotto", None, "single", APPROVE, (5, 2),
        "Donna sola che ha perso il lavoro di assistente familiare convivente e con esso la casa.",
    ),
    # 25: accepted, the move-in is next week.
    PlacementSpec(
        "santa_rita", None, "family", ACCEPT, (15, 13, 8),
        "Famiglia ospite di parenti in cinque in due stanze.",
    ),
    # 26, 27: rejected and cancelled.
    PlacementSpec(
        "borgo_vittoria", None, "single", (("reject", "other_solution"),), (50, 48),
        "Chiede un posto letto vicino al lavoro.",
        "Ha già un posto nel dormitorio di via Carrera fino a fine mese: si valuta dopo.",
    ),
    PlacementSpec(
        "madama_cristina", None, "family", (("cancel", "household_refused"),), (25, 22),
        "Famiglia con un affitto troppo alto per il reddito attuale.",
        "La famiglia ha deciso di restare nell'alloggio attuale con un piano di rientro.",
    ),
)  # fmt: skip


# Eviction prevention -------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskSpec:
    """An eviction-prevention case: opened `opened` working days ago with `actions`, updated
    `updated` working days ago with the dates and `more` actions; closed `closed` working days
    ago with `outcome`. Dates are days from today (negative: past)."""

    owner: int | None
    kind: str
    arrears: str | None
    opened: int
    actions: tuple[str, ...]
    notes: str
    notice: int | None = None
    hearing: int | None = None
    execution: int | None = None
    updated: int | None = None
    more: tuple[str, ...] = ()
    closed: int | None = None
    outcome: str | None = None
    by_city: bool = False
    placement: int | None = None  # the household of a placement story (by index)
    shape: str = "any"


RISK_CASES: tuple[RiskSpec, ...] = (
    # 0: ente1, hearing in nine days.
    RiskSpec(
        0, "eviction_notice", "4850.00", 48, ("mediation", "legal_aid"),
        "Sfratto per morosità dopo la perdita del lavoro del padre; la proprietà è disposta a un "
        "accordo se arriva il contributo del fondo.",
        notice=-75, hearing=9, updated=20, more=("arrears_fund",), placement=4,
    ),
    # 1: ente1, arrears without a notice yet.
    RiskSpec(
        0, "no_fault_arrears", "2340.00", 15, ("arrears_fund", "payment_plan"),
        "Quattro mensilità non pagate dopo la riduzione dell'orario di lavoro della madre.",
    ),
    # 2: ente1, execution in eighteen days: a placement is proposed.
    RiskSpec(
        0, "eviction_notice", "6120.50", 60, ("legal_aid", "postponement"),
        "Sfratto convalidato; il primo accesso dell'ufficiale giudiziario è stato rinviato.",
        notice=-160, hearing=-40, execution=18, updated=3,
        more=("rehousing", "emergency_placement"), placement=3,
    ),
    # 3: ente2, closed: the young siblings are in temporary accommodation.
    RiskSpec(
        1, "no_fault_arrears", "3900.00", 70, ("mediation", "arrears_fund"),
        "Morosità accumulata dopo la morte della madre, titolare del contratto.",
        notice=-120, hearing=-50, updated=26, more=("emergency_placement",), closed=20,
        outcome="temporary_accommodation", placement=5,
    ),
    # 4: the City follows a case of another organization: hearing in five days.
    RiskSpec(
        None, "no_fault_arrears", "1870.00", 25, ("mediation", "arrears_fund"),
        "Morosità incolpevole per malattia; la domanda al fondo è in istruttoria.",
        notice=-40, hearing=5, by_city=True,
    ),
    # 5: execution in twelve days.
    RiskSpec(
        None, "eviction_notice", "5300.00", 55, ("postponement", "rehousing"),
        "Sfratto convalidato a settembre; si cerca un alloggio in affitto con garanzia del fondo.",
        notice=-120, hearing=-30, execution=12, updated=10, more=("legal_aid",),
    ),
    # 6: hearing beyond the next month.
    RiskSpec(
        None, "eviction_notice", "2980.00", 10, ("legal_aid",),
        "Intimazione di sfratto appena notificata; primo colloquio con l'avvocato fissato.",
        notice=-20, hearing=45,
    ),
    # 7: closed, arrears covered by the fund.
    RiskSpec(
        None, "no_fault_arrears", "2650.00", 120, ("arrears_fund", "payment_plan"),
        "Coppia anziana con morosità dovuta a spese sanitarie straordinarie.",
        notice=-170, updated=80, closed=35, outcome="arrears_covered", shape="elderly",
    ),
    # 8: hearing in three weeks.
    RiskSpec(
        None, "eviction_notice", None, 30, ("mediation",),
        "Finita locazione: il proprietario vuole vendere l'alloggio.",
        notice=-60, hearing=22, updated=8, more=("rehousing",),
    ),
)  # fmt: skip
CHECK_NOTES = {
    "good": (
        "Il nucleo si è ambientato; rispetta il regolamento e cura gli spazi.",
        "Colloquio sereno; prosegue la ricerca di lavoro con lo sportello.",
        "Nessuna criticità; concordati i prossimi passi per l'uscita.",
        "Buoni rapporti con gli altri ospiti e con l'educatrice.",
    ),
    "some_difficulties": (
        "Qualche tensione con gli altri ospiti sugli spazi comuni; ne parleremo al prossimo "
        "incontro.",
        "Fatica a rispettare gli orari di rientro; concordato un richiamo scritto.",
        "Il lavoro a chiamata si è interrotto: serve un nuovo orientamento.",
    ),
    "critical": (
        "Ha smesso di frequentare il tirocinio e passa le giornate in camera: attivato il "
        "servizio di salute mentale.",
    ),
}
