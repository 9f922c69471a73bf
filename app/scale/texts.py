"""Invented Italian texts of the city-scale data: names, motivations, notes."""

from __future__ import annotations

ORG_PREFIXES: dict[str, tuple[str, ...]] = {
    "coop_a": ("Cooperativa Sociale",),
    "coop_b": ("Cooperativa Sociale", "Cooperativa di Inserimento"),
    "aps": ("Associazione", "APS"),
    "odv": ("Associazione di Volontariato", "ODV"),
    "fondazione": ("Fondazione",),
    "consorzio": ("Consorzio",),
    "impresa_sociale": ("Impresa Sociale",),
    "ente_religioso": ("Opera", "Centro Parrocchiale"),
}
LEGAL_FORM_WEIGHTS = {
    "coop_a": 22,
    "coop_b": 14,
    "aps": 24,
    "odv": 16,
    "fondazione": 7,
    "consorzio": 4,
    "impresa_sociale": 7,
    "ente_religioso": 6,
}
RUNTS_SECTION = {
    "coop_a": "d",
    "coop_b": "d",
    "aps": "b",
    "odv": "a",
    "fondazione": "c",
    "consorzio": "d",
    "impresa_sociale": "d",
    "ente_religioso": "g",
}
ORG_NOUNS = (
    "Il Ponte", "Orizzonti", "La Tenda", "Il Faro", "Arcobaleno", "Insieme", "La Rete",
    "Il Girasole", "Nuovi Passi", "Terra Comune", "La Bussola", "Mani Aperte", "Il Sentiero",
    "Casa Aperta", "Filo d'Erba", "La Strada", "Porte Aperte", "Il Melograno", "Passaggi",
    "Radici", "Germogli", "Il Cortile", "Mosaico", "La Vela", "Officina Sociale", "Punto a Capo",
    "Il Granello", "La Lanterna", "Crocevia", "Il Nodo", "Altrove", "La Piazza", "Il Seme",
    "Tessere", "La Sorgente", "Il Timone", "Ponti di Quartiere", "L'Approdo", "Lavoro e Dignità",
    "La Fucina",
)  # fmt: skip
QUARTIERI: dict[int, tuple[str, ...]] = {
    1: ("Centro", "Crocetta"),
    2: ("Santa Rita", "Mirafiori Nord", "Mirafiori Sud"),
    3: ("San Paolo", "Cenisia", "Pozzo Strada", "Cit Turin", "Borgata Lesna"),
    4: ("San Donato", "Campidoglio", "Parella"),
    5: ("Borgo Vittoria", "Madonna di Campagna", "Lucento", "Vallette"),
    6: ("Barriera di Milano", "Regio Parco", "Barca", "Bertolla", "Falchera", "Rebaudengo"),
    7: ("Aurora", "Vanchiglia", "Sassi", "Madonna del Pilone"),
    8: ("San Salvario", "Cavoretto", "Borgo Po", "Nizza Millefonti", "Lingotto", "Filadelfia"),
}
POSTAL_CODES: dict[int, tuple[str, ...]] = {
    1: ("10121", "10122", "10123", "10128"),
    2: ("10135", "10136", "10137"),
    3: ("10138", "10139", "10141", "10146"),
    4: ("10143", "10144", "10145"),
    5: ("10148", "10149", "10151"),
    6: ("10154", "10155", "10156"),
    7: ("10152", "10153", "10132"),
    8: ("10125", "10126", "10127", "10133"),
}
OPENING_HOURS = (
    "lun-ven 9:00-13:00; mar e gio 14:30-17:30",
    "lun-ven 9:00-17:00",
    "lun, mer, ven 9:30-12:30",
    "mar e gio 14:00-18:00",
    "lun-gio 9:00-12:30 e 14:00-16:30",
)

SERVICE_NAMES: dict[str, tuple[str, ...]] = {
    "information": ("Sportello informativo", "Punto di accoglienza"),
    "counselling": ("Consulenza al lavoro", "Sportello diritti e contratti"),
    "orientation": ("Sportello di orientamento al lavoro", "Orientamento individuale"),
    "job_placement": ("Accompagnamento al lavoro", "Inserimento lavorativo con tutor"),
    "training": ("Corso di formazione professionale", "Laboratorio professionalizzante"),
    "traineeship": ("Tirocini in azienda", "Tirocini di inclusione"),
    "skills_assessment": ("Bilancio di competenze", "Messa in trasparenza delle competenze"),
    "italian_language": ("Italiano per il lavoro", "Corso di lingua italiana A2-B1"),
    "digital_skills": ("Punto digitale", "Competenze digitali di base"),
    "job_search": ("Laboratorio curriculum e colloqui", "Ricerca attiva del lavoro"),
    "self_employment": ("Avvio d'impresa", "Sportello lavoro autonomo"),
    "secretariat": ("Segretariato sociale", "Sportello pratiche e documenti"),
}
SERVICE_TYPE_WEIGHTS = {
    "orientation": 14,
    "job_placement": 12,
    "job_search": 12,
    "counselling": 10,
    "training": 10,
    "traineeship": 9,
    "italian_language": 8,
    "digital_skills": 7,
    "skills_assessment": 6,
    "information": 5,
    "self_employment": 4,
    "secretariat": 3,
}
SERVICE_DESCRIPTION = (
    "Colloqui individuali e di gruppo, su appuntamento; il servizio è gratuito per le persone "
    "segnalate dalla rete."
)

MOTIVATIONS: dict[str, tuple[str, ...]] = {
    "job_search": (
        "Cerca lavoro da alcuni mesi; ha bisogno di un curriculum aggiornato e di contatti con le "
        "agenzie.",
        "Esperienza nella logistica, ora senza lavoro: chiede supporto per candidarsi.",
        "Cerca il primo impiego dopo la scuola; va preparato ai colloqui.",
    ),
    "orientation": (
        "Vuole capire che lavoro cercare dopo un lungo periodo di inattività.",
        "Chiede un orientamento per scegliere tra un corso e la ricerca di lavoro.",
    ),
    "training": (
        "Chiede un corso che rilasci una qualifica spendibile.",
        "Vuole specializzarsi: ha già una base di esperienza nel settore.",
    ),
    "traineeship": (
        "Disponibile a un tirocinio per fare esperienza in azienda.",
        "Qualifica professionale mai messa alla prova: un tirocinio con tutor può aiutare.",
    ),
    "italian_language": (
        "La conoscenza limitata dell'italiano ostacola le candidature.",
        "Vuole migliorare l'italiano scritto per i colloqui di lavoro.",
    ),
    "digital_skills": (
        "Non sa usare SPID e la posta elettronica: serve un corso di base.",
        "Deve imparare a usare il computer per candidarsi online.",
    ),
    "self_employment": (
        "Ha un progetto di piccola attività e chiede di verificarne la fattibilità.",
    ),
}
REFERRAL_NOTES = {
    "rejected": "La richiesta non è coerente con il servizio scelto.",
    "declined": "Il servizio non può prendere in carico la persona in questo periodo.",
    "completed": "Percorso concluso con esito positivo.",
    "failed": "Percorso interrotto.",
}

UNIT_NAMES = {
    "night_shelter_bed": "Dormitorio",
    "temporary_flat": "Alloggio temporaneo",
    "social_housing": "Alloggio sociale",
    "family_hosting": "Accoglienza in famiglia",
    "co_housing": "Co-housing",
}
PLACEMENT_MOTIVATIONS = (
    "Nucleo senza soluzione abitativa dopo lo sfratto; serve un alloggio temporaneo.",
    "Ospiti di parenti in un alloggio sovraffollato: chiedono una sistemazione propria.",
    "Persona sola senza dimora, segue un percorso di inserimento lavorativo.",
    "Madre sola con bambini, in attesa dell'assegnazione di una casa popolare.",
)
PLACEMENT_NOTES = {
    "rejected": "Il nucleo non rientra nelle priorità di questo periodo.",
    "declined": "L'alloggio non è adatto al nucleo.",
    "cancelled": "Il nucleo ha trovato un'altra sistemazione.",
    "ended": "Uscita concordata con il servizio.",
}
CHECK_NOTES = (
    "Il nucleo si è ambientato; nessuna criticità.",
    "Qualche difficoltà con i vicini, da seguire.",
    "Ritardi nel pagamento della quota di partecipazione.",
    None,
)
RISK_NOTES = (
    "Morosità dovuta alla perdita del lavoro; la proprietà è disponibile a un accordo.",
    "Udienza di convalida fissata; attivata la mediazione.",
    None,
)

PROJECT_TITLES = (
    "Percorso di inserimento lavorativo",
    "Tirocinio e autonomia",
    "Formazione e ricerca del lavoro",
    "Progetto di autonomia abitativa e lavorativa",
    "Qualifica professionale",
    "Italiano, patente e lavoro",
)
GOALS = (
    "Conseguire una qualifica professionale",
    "Completare un tirocinio di sei mesi",
    "Ottenere un contratto di lavoro",
    "Raggiungere il livello B1 di italiano",
    "Conseguire la patente B",
    "Trovare una sistemazione abitativa stabile",
    "Iscriversi al Centro per l'impiego e attivare la ricerca",
)
BUDGET_LINES: dict[str, tuple[str, str | None, int, int]] = {
    # category: (description, supplier, lowest and highest amount in cents)
    "training": ("Corso di formazione professionale", "Ente di formazione", 30_000, 250_000),
    "traineeship_allowance": ("Indennità di tirocinio", None, 120_000, 360_000),
    "transport": ("Abbonamento GTT mensile", "GTT", 3_800, 45_600),
    "childcare": ("Retta del nido e centro estivo", "Nido comunale", 15_000, 90_000),
    "housing_support": ("Contributo per l'affitto", None, 30_000, 300_000),
    "tools": ("Scarpe antinfortunistiche e attrezzi", "Ferramenta di quartiere", 8_000, 90_000),
    "health": ("Visite mediche e occhiali", None, 5_000, 60_000),
    "other": ("Spese per documenti e marche da bollo", None, 5_000, 50_000),
}
MEETING_NOTES = (
    "Il percorso procede come previsto.",
    "Presenze regolari; da rinforzare la ricerca attiva.",
    "Qualche assenza per motivi familiari, recuperate.",
)
MEETING_NEXT = ("Prossimo incontro tra un mese.", "Verificare l'iscrizione al corso.", None)
