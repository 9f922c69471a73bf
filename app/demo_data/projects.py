"""The demo's projects: the budget kits, the project stories and the notes of the monitoring
meetings (see `app.projects.demo` for how they are played)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# Budget kits -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineSpec:
    category: str
    description: str
    supplier: str | None
    amount: str  # one payment, in euro
    months: int = 0  # 0: a single purchase; n: n monthly payments of `amount`

    @property
    def planned(self) -> Decimal:
        return Decimal(self.amount) * max(self.months, 1)


@dataclass(frozen=True)
class Kit:
    lines: tuple[LineSpec, ...]
    goals: tuple[tuple[str, int], ...]  # (description, months after the start)


GTT = "GTT - Gruppo Torinese Trasporti"

KITS: dict[str, Kit] = {
    "traineeship": Kit(
        (
            LineSpec("traineeship_allowance", "Indennità di tirocinio di inclusione", None,
                  "600.00", 6),
            LineSpec("transport", "Abbonamento mensile GTT urbano", GTT, "38.00", 6),
            LineSpec("training", "Corso sicurezza sul lavoro, rischio medio (12 ore)",
                  "Agenzia formativa CIOFS Piemonte", "120.00"),
            LineSpec("tools", "Scarpe antinfortunistiche e abbigliamento da lavoro",
                  "Antinfortunistica Dora s.r.l.", "145.00"),
        ),
        (("Completare il corso sulla sicurezza prima dell'inizio del tirocinio", 1),
         ("Concludere i sei mesi di tirocinio con una frequenza di almeno l'80%", 6),
         ("Ottenere una proposta di assunzione o un secondo colloquio in azienda", 7)),
    ),
    "care_worker": Kit(
        (
            LineSpec("training", "Corso di qualifica per operatore socio-sanitario (OSS)",
                  "Agenzia formativa Casa di Carità Arti e Mestieri", "1200.00"),
            LineSpec("transport", "Abbonamento mensile GTT urbano", GTT, "38.00", 10),
            LineSpec("childcare", "Centro estivo per i figli durante il tirocinio in RSA",
                  "Cooperativa Il Girotondo", "320.00"),
            LineSpec("health", "Visita medica e vaccinazioni per il tirocinio in RSA",
                  "Poliambulatorio convenzionato", "85.00"),
        ),
        (("Superare le prove intermedie del corso OSS", 4),
         ("Conseguire la qualifica di operatore socio-sanitario", 10)),
    ),
    "driving_licence": Kit(
        (
            LineSpec("other", "Patente C e carta di qualificazione del conducente (CQC)",
                  "Autoscuola Barriera s.n.c.", "2950.00"),
            LineSpec("health", "Visita medica per il rilascio della patente superiore",
                  "Studio medico autorizzato", "60.00"),
            LineSpec("transport", "Abbonamento mensile GTT urbano", GTT, "38.00", 4),
        ),
        (("Superare l'esame teorico della patente C", 2),
         ("Conseguire patente C e CQC", 4),
         ("Iniziare a lavorare come autista in una ditta di trasporti", 6)),
    ),
    "web": Kit(
        (
            LineSpec("training", "Corso intensivo di sviluppo web (3 mesi)",
                  "Campidoglio Digitale Impresa Sociale", "1800.00"),
            LineSpec("tools", "Computer portatile ricondizionato", "Ricomputer Torino",
                  "420.00"),
            LineSpec("transport", "Abbonamento mensile GTT urbano", GTT, "38.00", 3),
            LineSpec("other", "Connessione internet domestica", "Operatore telefonico",
                  "24.90", 6),
        ),
        (("Frequentare il corso intensivo fino al progetto finale", 3),
         ("Pubblicare un portfolio con tre lavori", 4),
         ("Svolgere uno stage in un'agenzia web", 6)),
    ),
    "housing": Kit(
        (
            LineSpec("housing_support", "Contributo al canone di locazione", None, "300.00", 6),
            LineSpec("housing_support", "Deposito cauzionale per il nuovo alloggio",
                  "Proprietario dell'alloggio", "900.00"),
            LineSpec("other", "Allacciamento delle utenze di luce e gas", "Fornitore di energia",
                  "180.00"),
            LineSpec("childcare", "Retta del nido comunale", "Città di Torino - nidi d'infanzia",
                  "180.00", 5),
        ),
        (("Firmare un contratto di affitto sostenibile per il reddito del nucleo", 1),
         ("Pagare l'affitto con regolarità per sei mesi", 6),
         ("Iscrivere il nucleo alla graduatoria per la casa popolare", 2)),
    ),
    "mother": Kit(
        (
            LineSpec("childcare", "Baby parking durante il corso e lo stage",
                  "Baby parking Il Trenino", "250.00", 6),
            LineSpec("training", "Corso di addetta alle vendite con stage",
                  "Agenzia formativa En.A.I.P. Piemonte", "650.00"),
            LineSpec("transport", "Abbonamento mensile GTT urbano", GTT, "38.00", 6),
            LineSpec("health", "Cure odontoiatriche", "Studio dentistico convenzionato",
                  "780.00"),
        ),
        (("Trovare una soluzione stabile per la cura dei figli", 1),
         ("Concludere il corso e lo stage in un negozio", 5),
         ("Firmare un contratto part-time compatibile con gli orari dei figli", 6)),
    ),
    "italian": Kit(
        (
            LineSpec("training", "Corso di italiano B1 ed esame di certificazione CILS",
                  "CPIA 1 Torino", "240.00"),
            LineSpec("other", "Traduzione giurata e dichiarazione di valore del diploma",
                  "Studio di traduzioni giurate", "310.00"),
            LineSpec("training", "Corso HACCP per alimentaristi", "Confesercenti Torino",
                  "90.00"),
            LineSpec("transport", "Abbonamento mensile GTT urbano", GTT, "38.00", 4),
        ),
        (("Ottenere la certificazione di italiano B1", 4),
         ("Far riconoscere il diploma conseguito all'estero", 3),
         ("Candidarsi ad almeno dieci offerte nella ristorazione", 4)),
    ),
    "health": Kit(
        (
            LineSpec("health", "Protesi dentaria (quota a carico della persona)",
                  "Studio dentistico convenzionato", "1150.00"),
            LineSpec("health", "Occhiali da vista", "Ottica San Donato", "220.00"),
            LineSpec("traineeship_allowance", "Indennità di tirocinio part-time", None,
                  "450.00", 4),
            LineSpec("transport", "Abbonamento mensile GTT urbano", GTT, "38.00", 6),
        ),
        (("Completare le cure che impediscono i colloqui di lavoro", 2),
         ("Svolgere quattro mesi di tirocinio part-time", 6)),
    ),
    "neet": Kit(
        (
            LineSpec("training", "Corso di barista e caffetteria (80 ore)",
                  "Agenzia formativa Immaginazione e Lavoro", "480.00"),
            LineSpec("traineeship_allowance", "Indennità di tirocinio di inclusione", None,
                  "600.00", 3),
            LineSpec("transport", "Abbonamento mensile GTT urbano", GTT, "38.00", 4),
            LineSpec("tools", "Divisa e kit da barista", "Forniture Bar Piemonte", "95.00"),
        ),
        (("Frequentare il corso di barista fino all'attestato", 1),
         ("Svolgere tre mesi di tirocinio in un bar del quartiere", 4)),
    ),
    "self_employment": Kit(
        (
            LineSpec("tools", "Macchina da cucire professionale e attrezzatura di sartoria",
                  "Macchine per cucire Bernardi", "1350.00"),
            LineSpec("training", "Corso di gestione d'impresa (40 ore)",
                  "Camera di commercio di Torino", "350.00"),
            LineSpec("other", "Consulenza per l'apertura della partita IVA",
                  "Studio commercialista convenzionato", "250.00"),
        ),
        (("Scrivere il piano d'impresa con il tutor", 2),
         ("Aprire la partita IVA e avviare il laboratorio", 4)),
    ),
}  # fmt: skip


# Stories ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectSpec:
    """One project's story. `anchor` is in working days before today: the creation of a draft,
    the submission of a submitted project, the approval of an approved one, the start of an
    active or closed one. `who`: "youth" (a person aged 18-29), "adult", "mother" (a parent
    alone with young children) or "household" (the whole household, no person)."""

    owner: int | None  # organization index; None: an organization without a demo account
    who: str
    kit: str
    status: str
    anchor: int
    title: str
    summary: str
    note: str | None = None  # the City's note when sending back, the closing note
    returned: bool = False  # a draft sent back by the City
    goal_results: tuple[str, ...] = ()  # the goals' final statuses of a closed project
    early_stop: int | None = None  # a closed project: monthly payments stopped after n months
    increase: tuple[int, str, str] | None = None  # (line, new amount, "pending|approved|rejected")
    increase_days: int = 2  # working days ago the increase was asked


PROJECTS: tuple[ProjectSpec, ...] = (
    # ente1 -----------------------------------------------------------------------------------
    ProjectSpec(
        0, "youth", "traineeship", "closed", 190,
        "Tirocinio in magazzino e patentino del carrello elevatore",
        "Sei mesi di tirocinio in un magazzino della zona nord, con il corso sulla sicurezza e "
        "l'abbonamento ai mezzi.",
        note="Obiettivi raggiunti: assunto con contratto a termine dall'azienda del tirocinio.",
        goal_results=("achieved", "achieved", "achieved"),
        early_stop=5,
    ),
    ProjectSpec(
        0, "adult", "care_worker", "closed", 260,
        "Qualifica OSS per rientrare nel lavoro di cura",
        "Corso OSS con tirocinio in RSA; sostegno per i figli durante l'estate.",
        note="Qualifica conseguita; in attesa di chiamata dalle graduatorie delle RSA.",
        goal_results=("achieved", "partly_achieved"),
    ),
    ProjectSpec(
        0, "youth", "web", "active", 70,
        "Sviluppo web: dal corso al primo stage",
        "Percorso intensivo di sviluppo web con computer e connessione a casa per esercitarsi.",
    ),
    ProjectSpec(
        0, "household", "housing", "active", 85,
        "Una casa per ripartire",
        "Contributo all'affitto e al deposito per uscire dal sovraffollamento; nido per il più "
        "piccolo mentre la madre cerca lavoro.",
        increase=(0, "2400.00", "pending"),
    ),
    ProjectSpec(
        0, "youth", "neet", "approved", 4,
        "Barista in sei mesi",
        "Corso di barista e tirocinio in un bar di Barriera di Milano per un giovane fuori da "
        "scuola e lavoro.",
    ),
    ProjectSpec(
        0, "adult", "italian", "submitted", 3,
        "Italiano e titolo di studio per lavorare in cucina",
        "Certificazione di italiano, riconoscimento del diploma di cuoco e corso HACCP.",
    ),
    ProjectSpec(
        0, "youth", "traineeship", "draft", 7,
        "Tirocinio nella logistica",
        "Tirocinio di sei mesi in un magazzino di Settimo Torinese, con il corso sulla "
        "sicurezza.",
        note="Manca il preventivo del corso sulla sicurezza: allegalo e invia di nuovo.",
        returned=True,
    ),
    ProjectSpec(
        0, "mother", "mother", "draft", 2,
        "Lavoro part-time e cura dei figli",
        "Baby parking, corso di addetta alle vendite e cure dentistiche rimandate da anni.",
    ),
    # ente2 -----------------------------------------------------------------------------------
    ProjectSpec(
        1, "youth", "web", "closed", 175,
        "Competenze digitali per un lavoro da remoto",
        "Corso di sviluppo web e stage in un'agenzia di San Paolo.",
        note="Stage concluso con una collaborazione di tre mesi con l'agenzia.",
        goal_results=("achieved", "partly_achieved", "achieved"),
    ),
    ProjectSpec(
        1, "youth", "neet", "active", 50,
        "Ripartire dal bancone",
        "Corso di barista e tirocinio per una giovane che ha lasciato l'istituto alberghiero.",
        increase=(0, "560.00", "approved"),
        increase_days=45,
    ),
    ProjectSpec(
        1, "adult", "driving_licence", "active", 60,
        "Patente C per la logistica",
        "Patente C e CQC per tornare a lavorare come autista dopo un lungo periodo di "
        "disoccupazione.",
    ),
    ProjectSpec(
        1, "youth", "traineeship", "submitted", 5,
        "Tirocinio in un'officina meccanica",
        "Sei mesi di tirocinio in un'officina di Pozzo Strada con il corso sulla sicurezza.",
    ),
    ProjectSpec(
        1, "household", "housing", "approved", 9,
        "Dall'ospitalità dai parenti a una casa propria",
        "Deposito, primo periodo di affitto e nido per la figlia più piccola.",
    ),
    ProjectSpec(
        1, "adult", "self_employment", "draft", 4,
        "Un laboratorio di sartoria in proprio",
        "Attrezzatura, corso di gestione d'impresa e consulenza fiscale per avviare l'attività.",
    ),
    # other organizations ---------------------------------------------------------------------
    ProjectSpec(
        None, "youth", "traineeship", "closed", 200,
        "Tirocinio nella manutenzione del verde",
        "Tirocinio con una cooperativa di tipo B che cura i giardini di Lucento.",
        note="Tirocinio concluso; la cooperativa lo ha assunto per la stagione estiva.",
        goal_results=("achieved", "achieved", "partly_achieved"),
    ),
    ProjectSpec(
        None, "mother", "mother", "closed", 180,
        "Formazione e lavoro per una mamma sola",
        "Corso di addetta alle vendite con stage, baby parking e cure dentistiche.",
        note="Contratto part-time in un supermercato del quartiere.",
        goal_results=("achieved", "achieved", "achieved"),
    ),
    ProjectSpec(
        None, "adult", "health", "active", 40,
        "Curarsi per tornare al lavoro",
        "Cure dentistiche e occhiali, poi un tirocinio part-time in un magazzino.",
        increase=(0, "1400.00", "rejected"),
        increase_days=20,
    ),
    ProjectSpec(
        None, "youth", "neet", "active", 30,
        "Un mestiere tra i tavoli",
        "Corso di barista e tirocinio per un giovane segnalato dal punto giovani.",
    ),
    ProjectSpec(
        None, "household", "housing", "active", 100,
        "Casa e nido per una famiglia con tre figli",
        "Contributo all'affitto dopo lo sfratto e retta del nido per la più piccola.",
    ),
    ProjectSpec(
        None, "adult", "self_employment", "approved", 4,
        "Sartoria di quartiere",
        "Avvio di un piccolo laboratorio di riparazioni sartoriali a San Salvario.",
    ),
    ProjectSpec(
        None, "youth", "web", "submitted", 9,
        "Dal videogioco al codice",
        "Corso di sviluppo web per un giovane appassionato di informatica.",
    ),
    ProjectSpec(
        None, "adult", "italian", "submitted", 1,
        "Italiano per lavorare nella ristorazione",
        "Certificazione di italiano e corso HACCP per una cuoca arrivata da poco.",
    ),
    ProjectSpec(
        None, "youth", "traineeship", "draft", 6,
        "Tirocinio in un supermercato",
        "Tirocinio di sei mesi come addetto al rifornimento degli scaffali.",
    ),
)  # fmt: skip

MEETING_NOTES = (
    (
        "Incontro di avvio con la persona e il tutor: condivisi obiettivi, calendario e "
        "regole del budget.",
        "Consegnare l'abbonamento GTT e fissare il primo colloquio con il tutor.",
    ),
    (
        "Frequenza regolare; la persona riferisce qualche fatica con gli orari ma è motivata.",
        "Sentire il tutor aziendale prima del prossimo incontro.",
    ),
    (
        "Il tutor conferma buoni progressi; emersa la difficoltà di conciliare gli impegni "
        "familiari.",
        "Valutare con la famiglia un aiuto per gli spostamenti.",
    ),
    (
        "Verifica intermedia: obiettivi in linea con il progetto, spese nei limiti del budget.",
        "Preparare il curriculum aggiornato con le nuove competenze.",
    ),
    (
        "Colloquio con la persona dopo un periodo di assenze: concordato un nuovo calendario.",
        "Ricontrollare la frequenza tra due settimane.",
    ),
    (
        "Bilancio finale con la persona: percorso concluso, restano i contatti con l'azienda.",
        None,
    ),
)
