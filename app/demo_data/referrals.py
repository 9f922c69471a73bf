"""The demo's referrals: the stories (`SCENARIOS`) played in chronological order by
`app.referrals.demo`."""

from __future__ import annotations

from dataclasses import dataclass

from app.referrals import operations


@dataclass(frozen=True)
class Scenario:
    """One referral's story: who sends whom where, and what happens when.

    `days` are working days before today: the creation, then one per step. `age` prefers young
    people ("youth"), adults ("adult") or anybody ("any"). `service_type`, when given, is the kind
    of service of the target organization to choose among the suggestions.
    """

    sender: int  # organization index (0: ente1, 1: ente2)
    target: int
    need: str
    service_type: str | None
    age: str
    steps: tuple[tuple[str, str | None], ...]  # (action, coded reason)
    days: tuple[int, ...]
    motivation: str
    note: str | None = None  # the note of the last step
    sharing: bool = True  # False: a household without the sharing authorisation (drafts only)
    suspended_after: bool = False  # the target's accreditation was suspended after the approval

    @property
    def final_status(self) -> str:
        if not self.steps:
            return "draft"
        return operations.TRANSITIONS[self.steps[-1][0]].target


SUBMIT = (("submit", None),)
APPROVE = (*SUBMIT, ("approve", None))
ACCEPT = (*APPROVE, ("accept", None))
START = (*ACCEPT, ("start", None))
WAIT = (("wait", None),)

SCENARIOS: tuple[Scenario, ...] = (
    # ente1 -> ente2 ---------------------------------------------------------------------------
    Scenario(
        0, 1, "traineeship", "traineeship", "youth",
        (*START, ("complete", "traineeship")), (62, 62, 60, 57, 55, 14),
        "Ha una qualifica professionale mai messa alla prova: un tirocinio con tutor può essere "
        "il primo passo verso un contratto.",
        "Tirocinio di sei mesi avviato in un magazzino di San Paolo.",
    ),
    Scenario(
        0, 1, "orientation", "orientation", "youth",
        (*START, ("fail", "dropped_out")), (58, 58, 56, 52, 50, 22),
        "Fuori da scuola e lavoro da due anni, chiede aiuto per capire cosa vuole fare; "
        "preferisce le attività di gruppo.",
        "Ha smesso di presentarsi ai laboratori dopo il terzo incontro.",
    ),
    Scenario(
        0, 1, "orientation", "skills_assessment", "adult",
        (*APPROVE, ("decline", "unreachable")), (41, 41, 39, 34),
        "Lunga esperienza nelle pulizie industriali senza attestati: serve un bilancio di "
        "competenze per ripartire con un curriculum.",
        "Tre tentativi di contatto telefonico senza risposta.",
    ),
    Scenario(
        0, 1, "job_search", "orientation", "youth",
        START, (30, 30, 28, 25, 23),
        "Cerca il primo impiego dopo il diploma; ha bisogno di orientarsi tra le offerte e di "
        "preparare i colloqui.",
    ),
    Scenario(
        0, 1, "traineeship", "traineeship", "adult",
        ACCEPT, (12, 12, 10, 3),
        "Senza lavoro da oltre un anno dopo la chiusura della ditta; disponibilità a un "
        "tirocinio anche fuori quartiere.",
    ),
    Scenario(
        0, 1, "orientation", "skills_assessment", "adult",
        APPROVE, (11, 11, 9),
        "Vuole cambiare settore dopo vent'anni nella ristorazione; chiede un bilancio delle "
        "competenze acquisite.",
    ),
    Scenario(
        0, 1, "job_search", "orientation", "youth",
        APPROVE, (4, 4, 2),
        "Ha lasciato la scuola al quarto anno e cerca lavoro senza sapere da dove cominciare; "
        "la famiglia sostiene il percorso.",
    ),
    Scenario(
        0, 1, "traineeship", "traineeship", "youth",
        SUBMIT, (1, 1),
        "Ha concluso un corso di magazziniere e cerca un tirocinio per fare esperienza in "
        "azienda.",
    ),
    Scenario(
        0, 1, "orientation", "orientation", "youth",
        (*APPROVE, ("cancel", None)), (20, 20, 18, 17),
        "Chiede un orientamento per scegliere tra un corso professionale e la ricerca di lavoro.",
        "Ha trovato lavoro per conto proprio prima del primo colloquio.",
    ),
    Scenario(
        0, 1, "orientation", "orientation", "adult",
        (*APPROVE, ("expire", "no_answer")), (40, 40, 38, 17),
        "Disoccupata da due anni dopo la chiusura del negozio in cui lavorava; chiede colloqui "
        "di orientamento per ripartire.",
    ),
    # ente1 -> other organizations -----------------------------------------------------------
    Scenario(
        0, 6, "job_search", "job_search", "adult",
        (*START, ("complete", "employment_contract")), (55, 55, 54, 50, 48, 10),
        "Esperienza nei cantieri edili; ha bisogno di un curriculum aggiornato e di contatti con "
        "le agenzie per il lavoro.",
        "Contratto a tempo determinato di dodici mesi in un'impresa edile.",
    ),
    Scenario(
        0, 8, "job_search", "secretariat", "youth",
        (*SUBMIT, ("reject", "wrong_service")), (9, 9, 3),
        "Cerca lavoro e deve iscriversi al Centro per l'impiego.",
        "Per la ricerca di lavoro è più adatto un servizio di accompagnamento: l'iscrizione si "
        "può fare allo snodo.",
    ),
    Scenario(
        0, 15, "training", "training", "youth",
        SUBMIT, (11, 11),
        "Passione per l'informatica e basi di programmazione imparate con i tutorial; chiede un "
        "corso che rilasci un titolo spendibile.",
    ),
    Scenario(
        0, 6, "job_search", "job_search", "youth",
        (), (2,),
        "Cerca il primo lavoro; va preparato il curriculum.",
        sharing=False,
    ),
    Scenario(
        0, 7, "orientation", "counselling", "adult",
        START, (26, 26, 25, 21, 19),
        "Titolo di studio conseguito all'estero da far riconoscere prima di cercare lavoro nel "
        "suo settore.",
    ),
    Scenario(
        0, 9, "traineeship", "traineeship", "adult",
        APPROVE, (21, 21, 18),
        "Vent'anni in fabbriche metalmeccaniche; chiede un tirocinio in una piccola impresa "
        "della zona sud.",
        suspended_after=True,
    ),
    # other organizations -> ente1 -----------------------------------------------------------
    Scenario(
        5, 0, "job_search", "job_placement", "youth",
        (*START, ("complete", "employment_contract")), (60, 60, 58, 55, 53, 12),
        "Giovane NEET che lo snodo conosce da tempo: molta motivazione, nessuna esperienza di "
        "lavoro.",
        "Contratto di apprendistato in un'officina di Barriera di Milano.",
    ),
    Scenario(
        12, 0, "orientation", "orientation", "any",
        APPROVE, (14, 14, 10),
        "Deve conciliare il lavoro con gli impegni familiari; chiede un orientamento per "
        "cercare un impiego compatibile.",
    ),
    Scenario(
        13, 0, "italian_language", "italian_language", "adult",
        ACCEPT, (9, 9, 7, 2),
        "La conoscenza limitata dell'italiano ostacola le candidature: chiede un corso "
        "orientato al lavoro.",
    ),
    Scenario(
        10, 0, "job_search", "job_placement", "youth",
        (*APPROVE, ("decline", "person_refused")), (45, 45, 43, 40),
        "Cerca lavoro dopo un periodo di inattività; segnalato dal punto giovani.",
        "Al primo colloquio ha detto di voler prima finire il corso serale.",
    ),
    Scenario(
        7, 0, "italian_language", "italian_language", "any",
        SUBMIT, (2, 2),
        "Vuole migliorare l'italiano scritto per affrontare i colloqui di lavoro.",
    ),
    Scenario(
        5, 0, "orientation", "orientation", "adult",
        START, (35, 35, 33, 30, 28),
        "Dopo la separazione deve rientrare nel mercato del lavoro; chiede colloqui individuali.",
    ),
    Scenario(
        13, 0, "job_search", "job_placement", "youth",
        (*START, ("fail", "unreachable")), (63, 63, 61, 57, 55, 30),
        "Fuori da scuola e lavoro, conosciuto tramite l'educativa di strada.",
        "Numero di telefono cambiato, nessuna presenza agli appuntamenti.",
    ),
    Scenario(
        12, 0, "orientation", "orientation", "any",
        APPROVE, (5, 5, 1),
        "Ha lavorato per anni come badante senza contratto; vuole capire come far valere "
        "l'esperienza.",
    ),
    # ente2 -> other organizations -----------------------------------------------------------
    Scenario(
        1, 6, "job_search", "job_search", "adult",
        (*START, ("complete", "employment_contract")), (50, 50, 49, 45, 43, 8),
        "Patente C e anni di esperienza alla guida, ora senza lavoro; cerca supporto per "
        "candidarsi nella logistica.",
        "Contratto come autista in una cooperativa di trasporti.",
    ),
    Scenario(
        1, 8, "orientation", "orientation", "any",
        SUBMIT, (3, 3),
        "Ha un progetto professionale nel commercio e chiede di verificarne la fattibilità.",
    ),
    Scenario(
        1, 15, "digital_skills", "digital_skills", "any",
        (*SUBMIT, ("reject", "already_followed")), (25, 25, 23),
        "Non sa usare SPID e la posta elettronica: serve un corso di base.",
        "Frequenta già il punto digitale della circoscrizione 2.",
    ),
    Scenario(
        1, 3, "job_search", "job_placement", "adult",
        (*APPROVE, ("cancel", None)), (38, 38, 36, 35),
        "Senza lavoro da tempo, disponibilità per lavori di manutenzione del verde.",
        "Ha accettato un'offerta di lavoro arrivata tramite un conoscente.",
    ),
    Scenario(
        1, 15, "training", "training", "youth",
        START, (20, 20, 18, 15, 13),
        "Diploma in grafica; vuole specializzarsi nello sviluppo web.",
    ),
    Scenario(
        1, 8, "training", "training", "youth",
        ACCEPT, (6, 6, 5, 2),
        "Vuole lavorare nella ristorazione e chiede un corso che rilasci una qualifica.",
    ),
    Scenario(
        1, 7, "orientation", "counselling", "any",
        (), (1,),
        "Chiede informazioni sul contratto e sulla busta paga dell'ultimo lavoro.",
    ),
    # between organizations without a demo account --------------------------------------------
    Scenario(
        7, 6, "job_search", "job_search", "youth",
        SUBMIT, (10, 10),
        "Cerca lavoro in magazzino; ha già il patentino del carrello elevatore.",
    ),
    Scenario(
        12, 8, "training", "training", "youth",
        (*SUBMIT, ("reject", "not_eligible")), (28, 28, 27),
        "Vuole lavorare in cucina.",
        "Il corso richiede la licenza media, che non risulta conseguita.",
    ),
    Scenario(
        13, 6, "traineeship", "traineeship", "youth",
        (*START, ("complete", "traineeship")), (57, 57, 55, 52, 50, 18),
        "Ama stare all'aperto e chiede un tirocinio nella cura del verde.",
        "Tirocinio avviato nella manutenzione dei giardini di Lucento.",
    ),
    Scenario(
        5, 15, "digital_skills", "digital_skills", "any",
        (("cancel", None),), (44, 42),
        "Deve imparare a usare il computer per candidarsi online.",
        "Segnalazione preparata per errore: la persona frequenta già un corso.",
    ),
    Scenario(
        8, 6, "job_search", "job_search", "youth",
        (*APPROVE, ("decline", "unreachable")), (33, 33, 31, 29),
        "Cerca lavoro nella logistica vicino a casa.",
        "La persona non ha risposto alle convocazioni.",
    ),
    # A full service and its waiting list (issue #24): Crocetta's job placement (4 places a
    # month) is held by four referrals in flight; three more wait, oldest first. Nothing frees
    # a place afterwards, so nobody is promoted while the demo is loaded.
    Scenario(
        5, 3, "job_search", "job_placement", "any",
        APPROVE, (12, 12, 10),
        "Ha lavorato come operaio edile fino alla chiusura del cantiere; cerca un lavoro "
        "all'aperto.",
    ),
    Scenario(
        13, 3, "job_search", "job_placement", "any",
        APPROVE, (11, 11, 9),
        "Dopo un periodo di malattia vuole tornare al lavoro con un orario ridotto.",
    ),
    Scenario(
        8, 3, "job_search", "job_placement", "any",
        SUBMIT, (8, 8),
        "Ha esperienza nelle pulizie di uffici e cerca un contratto più stabile.",
    ),
    Scenario(
        1, 3, "job_search", "job_placement", "any",
        SUBMIT, (6, 6),
        "Cerca un inserimento in cooperativa per ricominciare dopo anni di inattività.",
    ),
    Scenario(
        12, 3, "job_search", "job_placement", "any",
        WAIT, (4, 4),
        "Cerca un lavoro nella manutenzione del verde; disponibile anche il sabato.",
    ),
    Scenario(
        0, 3, "job_search", "job_placement", "adult",
        WAIT, (3, 3),
        "Ha lavorato per anni nelle pulizie senza contratto; chiede un inserimento regolare.",
    ),
    Scenario(
        4, 3, "job_search", "job_placement", "any",
        WAIT, (1, 1),
        "Ha perso il lavoro da poco e chiede un inserimento lavorativo in cooperativa.",
    ),
)  # fmt: skip
