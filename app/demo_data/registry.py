"""The demo registry: the organizations in a fixed order, with their accreditations, sites,
hubs and services (see `app.registry.demo` for what the demo relies on)."""

from __future__ import annotations

from dataclasses import dataclass, field

WEEKDAYS_OPEN = "lun-ven 9:00-13:00; mar e gio 14:30-17:30"


@dataclass(frozen=True)
class SiteSpec:
    name: str
    address: str
    postal_code: str
    circoscrizione: int
    opening_hours: str
    phone: str | None = None
    is_hub: bool = False
    distribution_days: tuple[str, ...] = ()
    households_served: int | None = None


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    service_type: str
    description: str
    languages: tuple[str, ...]
    monthly_capacity: int
    verified_days_ago: int
    age_min: int | None = 18
    age_max: int | None = None
    youth_focus: bool = False
    neet_focus: bool = False
    active: bool = True
    sites: tuple[int, ...] = (0,)  # indexes into the organization's sites


@dataclass(frozen=True)
class AccreditationSpec:
    sequence: int  # the progressive part of the regional number
    granted_days_ago: int
    expires_in_days: int  # negative: already past
    functions: tuple[str, ...]
    status: str = "active"
    status_reason: str | None = None
    verified_days_ago: int | None = None  # None: never verified


@dataclass(frozen=True)
class OrgSpec:
    name: str
    legal_form: str
    tax_base: str  # ten digits: the eleventh is the check digit
    runts_section: str
    runts_number: str
    address: str
    postal_code: str
    circoscrizione: int
    phone: str
    domain: str  # e-mail and website: <domain>.example.it
    description: str
    is_job_service: bool = False
    is_hub: bool = False
    is_housing_provider: bool = False
    active: bool = True
    sites: tuple[SiteSpec, ...] = ()
    services: tuple[ServiceSpec, ...] = field(default_factory=tuple)
    accreditation: AccreditationSpec | None = None


ALL_FUNCTIONS = ("information", "counselling", "orientation", "secretariat")

ORGANIZATIONS: tuple[OrgSpec, ...] = (
    # 0: ente1. Hub and accredited job service in Barriera di Milano.
    OrgSpec(
        name="Cooperativa Sociale Il Ponte",
        legal_form="coop_a",
        tax_base="0874512001",
        runts_section="d",
        runts_number="41827",
        address="via Cigna 150",
        postal_code="10155",
        circoscrizione=6,
        phone="011 2486731",
        domain="ilponte",
        description=(
            "Cooperativa sociale che a Barriera di Milano gestisce uno snodo Torino Solidale "
            "e uno sportello accreditato per l'orientamento e l'inserimento lavorativo."
        ),
        is_job_service=True,
        is_hub=True,
        sites=(
            SiteSpec(
                name="Sede operativa di Barriera",
                address="via Cigna 150",
                postal_code="10155",
                circoscrizione=6,
                opening_hours=WEEKDAYS_OPEN,
                phone="011 2486731",
            ),
            SiteSpec(
                name="Snodo Torino Solidale Barriera di Milano",
                address="corso Giulio Cesare 163",
                postal_code="10155",
                circoscrizione=6,
                opening_hours="mar e ven 9:00-12:30",
                phone="011 2486732",
                is_hub=True,
                distribution_days=("tue", "fri"),
                households_served=160,
            ),
        ),
        services=(
            ServiceSpec(
                name="Sportello di orientamento al lavoro",
                service_type="orientation",
                description=(
                    "Colloqui individuali per ricostruire il percorso di studio e lavoro e "
                    "definire un obiettivo professionale realistico."
                ),
                languages=("it", "ar", "fr", "wo"),
                monthly_capacity=15,
                verified_days_ago=212,  # stale: ente1 sees it on the home page
                age_min=16,
                sites=(0, 1),
            ),
            ServiceSpec(
                name="Accompagnamento al lavoro per giovani",
                service_type="job_placement",
                description=(
                    "Percorso di accompagnamento all'inserimento lavorativo per ragazze e ragazzi "
                    "che non studiano e non lavorano, con tutor dedicato."
                ),
                languages=("it", "ar", "en"),
                monthly_capacity=10,
                verified_days_ago=20,
                age_max=29,
                youth_focus=True,
                neet_focus=True,
            ),
            ServiceSpec(
                name="Italiano per il lavoro",
                service_type="italian_language",
                description=(
                    "Corso di italiano di livello A2-B1 centrato sul lessico del lavoro e dei "
                    "colloqui di selezione."
                ),
                languages=("it", "ar", "fr", "zh"),
                monthly_capacity=20,
                verified_days_ago=45,
                age_min=16,
                sites=(1,),
            ),
        ),
        accreditation=AccreditationSpec(
            sequence=143,
            granted_days_ago=900,
            expires_in_days=560,
            functions=ALL_FUNCTIONS,
            verified_days_ago=880,
        ),
    ),
    # 1: ente2. Accredited job service in San Paolo.
    OrgSpec(
        name="Associazione Orizzonti di Lavoro",
        legal_form="aps",
        tax_base="9761023001",
        runts_section="b",
        runts_number="52316",
        address="via Monginevro 112",
        postal_code="10141",
        circoscrizione=3,
        phone="011 3852047",
        domain="orizzontidilavoro",
        description=(
            "Associazione di promozione sociale che offre bilanci di competenze, orientamento e "
            "tirocini di inclusione tra San Paolo e Pozzo Strada."
        ),
        is_job_service=True,
        sites=(
            SiteSpec(
                name="Sede di San Paolo",
                address="via Monginevro 112",
                postal_code="10141",
                circoscrizione=3,
                opening_hours="lun-ven 9:30-13:00; lun e mer 14:30-18:00",
                phone="011 3852047",
            ),
            SiteSpec(
                name="Punto lavoro Pozzo Strada",
                address="corso Trapani 95",
                postal_code="10141",
                circoscrizione=3,
                opening_hours="mar e gio 9:00-12:30",
            ),
        ),
        services=(
            ServiceSpec(
                name="Bilancio di competenze",
                service_type="skills_assessment",
                description=(
                    "Cinque incontri per riconoscere le competenze acquisite anche fuori dai "
                    "percorsi formali e tradurle in un curriculum."
                ),
                languages=("it", "en", "es"),
                monthly_capacity=8,
                verified_days_ago=30,
                age_max=65,
            ),
            ServiceSpec(
                name="Tirocini di inclusione sociale",
                service_type="traineeship",
                description=(
                    "Attivazione di tirocini in aziende del territorio con indennità e tutoraggio "
                    "per persone in carico ai servizi sociali."
                ),
                languages=("it", "ro", "sq"),
                monthly_capacity=6,
                verified_days_ago=60,
                sites=(0, 1),
            ),
            ServiceSpec(
                name="Ripartenze: orientamento per giovani NEET",
                service_type="orientation",
                description=(
                    "Laboratori di gruppo e colloqui individuali per giovani tra i 18 e i 29 anni "
                    "fuori da scuola, formazione e lavoro."
                ),
                languages=("it", "en", "fr", "ar"),
                monthly_capacity=12,
                verified_days_ago=15,
                age_max=29,
                youth_focus=True,
                neet_focus=True,
                sites=(1,),
            ),
        ),
        accreditation=AccreditationSpec(
            sequence=287,
            granted_days_ago=400,
            expires_in_days=700,
            functions=("information", "counselling", "orientation"),
            verified_days_ago=390,
        ),
    ),
    # 2: alloggi1. Housing provider in Vanchiglia.
    OrgSpec(
        name="Fondazione Casa Solidale Torino",
        legal_form="fondazione",
        tax_base="9758204001",
        runts_section="g",
        runts_number="38904",
        address="via Vanchiglia 18",
        postal_code="10124",
        circoscrizione=7,
        phone="011 8127465",
        domain="casasolidale",
        description=(
            "Fondazione che gestisce alloggi temporanei e progetti di coabitazione solidale per "
            "nuclei in emergenza abitativa."
        ),
        is_housing_provider=True,
        sites=(
            SiteSpec(
                name="Sede amministrativa di Vanchiglia",
                address="via Vanchiglia 18",
                postal_code="10124",
                circoscrizione=7,
                opening_hours="lun-ven 9:00-13:00; 14:00-17:00",
                phone="011 8127465",
            ),
            SiteSpec(
                name="Residenza temporanea Madonna del Pilone",
                address="corso Casale 180",
                postal_code="10132",
                circoscrizione=7,
                opening_hours="accoglienza su appuntamento, lun-sab 8:00-20:00",
            ),
        ),
    ),
    # 3: accredited job service whose accreditation expires within 60 days.
    OrgSpec(
        name="Cooperativa Crocetta Insieme",
        legal_form="coop_b",
        tax_base="0692381001",
        runts_section="d",
        runts_number="44051",
        address="corso Re Umberto 74",
        postal_code="10128",
        circoscrizione=1,
        phone="011 5093318",
        domain="crocettainsieme",
        description=(
            "Cooperativa sociale di tipo B che inserisce al lavoro persone svantaggiate nei "
            "servizi di manutenzione e nei laboratori digitali."
        ),
        is_job_service=True,
        sites=(
            SiteSpec(
                name="Sede di Crocetta",
                address="corso Re Umberto 74",
                postal_code="10128",
                circoscrizione=1,
                opening_hours="lun-ven 8:30-12:30; mer 14:00-17:00",
                phone="011 5093318",
            ),
        ),
        services=(
            ServiceSpec(
                name="Laboratorio di competenze digitali",
                service_type="digital_skills",
                description=(
                    "Uso dello SPID, della posta elettronica e dei portali per la ricerca di "
                    "lavoro, in piccoli gruppi con un computer a testa."
                ),
                languages=("it", "en", "uk", "ru"),
                monthly_capacity=12,
                verified_days_ago=75,
                age_min=16,
            ),
            ServiceSpec(
                name="Inserimento lavorativo in cooperativa",
                service_type="job_placement",
                description=(
                    "Borse lavoro e assunzioni nei cantieri di manutenzione del verde e delle "
                    "pulizie gestiti dalla cooperativa."
                ),
                languages=("it", "ro", "sq"),
                monthly_capacity=4,
                verified_days_ago=95,
                age_max=65,
            ),
        ),
        accreditation=AccreditationSpec(
            sequence=96,
            granted_days_ago=1070,
            expires_in_days=25,  # the one expiring soon
            functions=("information", "orientation", "secretariat"),
            verified_days_ago=1050,
        ),
    ),
    # 4: hub in Mirafiori Sud.
    OrgSpec(
        name="Associazione Mirafiori Comunità APS",
        legal_form="aps",
        tax_base="9784410001",
        runts_section="b",
        runts_number="57723",
        address="via Onorato Vigliani 102",
        postal_code="10135",
        circoscrizione=2,
        phone="011 3471592",
        domain="mirafioricomunita",
        description=(
            "Associazione di quartiere che a Mirafiori Sud distribuisce panieri alimentari e "
            "anima attività di vicinato per le famiglie in difficoltà."
        ),
        is_hub=True,
        sites=(
            SiteSpec(
                name="Snodo Torino Solidale Mirafiori Sud",
                address="via Onorato Vigliani 102",
                postal_code="10135",
                circoscrizione=2,
                opening_hours="lun e gio 15:00-18:30",
                phone="011 3471592",
                is_hub=True,
                distribution_days=("mon", "thu"),
                households_served=110,
            ),
        ),
    ),
    # 5: hub in San Donato.
    OrgSpec(
        name="Associazione San Donato Solidale ODV",
        legal_form="odv",
        tax_base="9772635001",
        runts_section="a",
        runts_number="29418",
        address="via San Donato 64",
        postal_code="10144",
        circoscrizione=4,
        phone="011 4375820",
        domain="sandonatosolidale",
        description=(
            "Organizzazione di volontariato che gestisce lo snodo di San Donato e un punto di "
            "ascolto per le famiglie del quartiere."
        ),
        is_hub=True,
        sites=(
            SiteSpec(
                name="Snodo Torino Solidale San Donato",
                address="via San Donato 64",
                postal_code="10144",
                circoscrizione=4,
                opening_hours="mer 14:30-18:00; sab 9:00-12:00",
                phone="011 4375820",
                is_hub=True,
                distribution_days=("wed", "sat"),
                households_served=85,
            ),
        ),
    ),
    # 6: accredited job service in Vallette and Lucento.
    OrgSpec(
        name="Cooperativa Vallette al Lavoro",
        legal_form="coop_b",
        tax_base="1052678001",
        runts_section="d",
        runts_number="46390",
        address="viale dei Mughetti 18",
        postal_code="10151",
        circoscrizione=5,
        phone="011 7398264",
        domain="vallettealavoro",
        description=(
            "Cooperativa sociale di tipo B attiva nella logistica e nella cura del verde, con "
            "servizi di orientamento e tirocini per gli abitanti della circoscrizione 5."
        ),
        is_job_service=True,
        sites=(
            SiteSpec(
                name="Sede di Vallette",
                address="viale dei Mughetti 18",
                postal_code="10151",
                circoscrizione=5,
                opening_hours=WEEKDAYS_OPEN,
                phone="011 7398264",
            ),
            SiteSpec(
                name="Punto lavoro Lucento",
                address="via Pianezza 106",
                postal_code="10151",
                circoscrizione=5,
                opening_hours="lun e mer 14:00-17:30",
            ),
        ),
        services=(
            ServiceSpec(
                name="Curriculum e ricerca attiva del lavoro",
                service_type="job_search",
                description=(
                    "Scrittura del curriculum, simulazioni di colloquio e iscrizione ai portali "
                    "e alle agenzie per il lavoro."
                ),
                languages=("it", "ar", "ro", "es"),
                monthly_capacity=20,
                verified_days_ago=10,
                sites=(0, 1),
            ),
            ServiceSpec(
                name="Tirocini nel verde urbano",
                service_type="traineeship",
                description=(
                    "Tirocini di sei mesi nella manutenzione di parchi e giardini, con corso "
                    "sulla sicurezza e tutor aziendale."
                ),
                languages=("it", "fr", "wo", "ff"),
                monthly_capacity=5,
                verified_days_ago=200,  # stale
                age_max=29,
                youth_focus=True,
            ),
            ServiceSpec(
                name="Formazione per addetti alla logistica",
                service_type="training",
                description=(
                    "Corso di 120 ore per magazziniere con patentino del carrello elevatore; "
                    "posti esauriti fino alla prossima edizione."
                ),
                languages=("it", "ar", "en"),
                monthly_capacity=0,
                verified_days_ago=40,
                age_max=65,
            ),
        ),
        accreditation=AccreditationSpec(
            sequence=312,
            granted_days_ago=300,
            expires_in_days=800,
            functions=("information", "counselling", "orientation"),
            verified_days_ago=290,
        ),
    ),
    # 7: job service, hub and housing provider in San Salvario.
    OrgSpec(
        name="Associazione San Salvario Accoglie APS",
        legal_form="aps",
        tax_base="9749127001",
        runts_section="b",
        runts_number="50862",
        address="via Nizza 56",
        postal_code="10125",
        circoscrizione=8,
        phone="011 6694130",
        domain="sansalvarioaccoglie",
        description=(
            "Associazione multiculturale di San Salvario con sportello lavoro multilingue, "
            "snodo alimentare e appartamenti di accoglienza temporanea."
        ),
        is_job_service=True,
        is_hub=True,
        is_housing_provider=True,
        sites=(
            SiteSpec(
                name="Casa del quartiere e snodo di San Salvario",
                address="via Nizza 56",
                postal_code="10125",
                circoscrizione=8,
                opening_hours="lun-ven 10:00-13:00 e 15:00-18:00; distribuzione mer e sab",
                phone="011 6694130",
                is_hub=True,
                distribution_days=("wed", "sat"),
                households_served=125,
            ),
            SiteSpec(
                name="Appartamenti di accoglienza di via Madama Cristina",
                address="via Madama Cristina 94",
                postal_code="10126",
                circoscrizione=8,
                opening_hours="su appuntamento",
            ),
        ),
        services=(
            ServiceSpec(
                name="Sportello lavoro multilingue",
                service_type="counselling",
                description=(
                    "Consulenza su contratti, buste paga, permesso di soggiorno per lavoro e "
                    "riconoscimento dei titoli di studio esteri."
                ),
                languages=("it", "ar", "fr", "en", "es", "zh", "wo", "bn"),
                monthly_capacity=15,
                verified_days_ago=25,
                age_min=16,
            ),
            ServiceSpec(
                name="Italiano L2 per adulti",
                service_type="italian_language",
                description=(
                    "Corsi serali di italiano dal livello pre-A1 al B1, con servizio di "
                    "custodia dei bambini durante le lezioni."
                ),
                languages=("it", "ar", "bn", "ur", "zh"),
                monthly_capacity=20,
                verified_days_ago=50,
                age_min=16,
            ),
            ServiceSpec(
                name="Avvio d'impresa per donne migranti",
                service_type="self_employment",
                description=(
                    "Accompagnamento alla stesura del piano d'impresa e all'accesso al "
                    "microcredito; sospeso in attesa di un nuovo finanziamento."
                ),
                languages=("it", "fr", "es", "pt"),
                monthly_capacity=3,
                verified_days_ago=260,  # stale and inactive
                age_max=65,
                active=False,
            ),
        ),
        accreditation=AccreditationSpec(
            sequence=58,
            granted_days_ago=600,
            expires_in_days=420,
            functions=ALL_FUNCTIONS,
            verified_days_ago=590,
        ),
    ),
    # 8: accredited job service in the centre.
    OrgSpec(
        name="Consorzio Rete Lavoro Torino",
        legal_form="consorzio",
        tax_base="1128345001",
        runts_section="d",
        runts_number="47105",
        address="via Po 18",
        postal_code="10123",
        circoscrizione=1,
        phone="011 8176253",
        domain="retelavorotorino",
        description=(
            "Consorzio di cooperative sociali che coordina orientamento specialistico e "
            "formazione professionale per i soci e per la rete cittadina."
        ),
        is_job_service=True,
        sites=(
            SiteSpec(
                name="Sede di via Po",
                address="via Po 18",
                postal_code="10123",
                circoscrizione=1,
                opening_hours="lun-gio 9:00-13:00 e 14:00-17:00; ven 9:00-13:00",
                phone="011 8176253",
            ),
        ),
        services=(
            ServiceSpec(
                name="Orientamento specialistico",
                service_type="orientation",
                description=(
                    "Percorsi di orientamento di secondo livello per chi ha già un progetto "
                    "professionale e deve verificarne la fattibilità."
                ),
                languages=("it", "en", "fr"),
                monthly_capacity=10,
                verified_days_ago=35,
            ),
            ServiceSpec(
                name="Corso di operatore della ristorazione",
                service_type="training",
                description=(
                    "Qualifica regionale di 600 ore con stage in cucine e sale della città, "
                    "riservata a giovani fino a 29 anni."
                ),
                languages=("it", "en", "es"),
                monthly_capacity=12,
                verified_days_ago=70,
                age_max=29,
                youth_focus=True,
            ),
            ServiceSpec(
                name="Segretariato sociale per il lavoro",
                service_type="secretariat",
                description=(
                    "Informazioni e disbrigo pratiche per iscrizione al Centro per l'impiego, "
                    "DID online e assegno di inclusione."
                ),
                languages=("it", "ar", "ro"),
                monthly_capacity=15,
                verified_days_ago=5,
                age_min=16,
            ),
        ),
        accreditation=AccreditationSpec(
            sequence=421,
            granted_days_ago=200,
            expires_in_days=1000,
            functions=ALL_FUNCTIONS,
            verified_days_ago=190,
        ),
    ),
    # 9: job service with a suspended accreditation.
    OrgSpec(
        name="Fondazione Lavoro e Dignità",
        legal_form="fondazione",
        tax_base="9712846001",
        runts_section="c",
        runts_number="36275",
        address="corso Orbassano 192",
        postal_code="10137",
        circoscrizione=2,
        phone="011 3095817",
        domain="lavoroedignita",
        description=(
            "Fondazione che sostiene il reinserimento lavorativo di adulti over 45 espulsi dal "
            "settore manifatturiero."
        ),
        is_job_service=True,
        sites=(
            SiteSpec(
                name="Sede di Santa Rita",
                address="corso Orbassano 192",
                postal_code="10137",
                circoscrizione=2,
                opening_hours="lun, mer e ven 9:00-13:00",
                phone="011 3095817",
            ),
        ),
        services=(
            ServiceSpec(
                name="Bilancio di competenze per over 45",
                service_type="skills_assessment",
                description=(
                    "Percorso individuale per lavoratori e lavoratrici con lunga esperienza che "
                    "cercano una ricollocazione."
                ),
                languages=("it", "ro", "uk"),
                monthly_capacity=6,
                verified_days_ago=120,
                age_min=45,
                age_max=65,
            ),
            ServiceSpec(
                name="Tirocini in manifattura",
                service_type="traineeship",
                description=(
                    "Tirocini in piccole imprese meccaniche della zona sud con formazione sulla "
                    "sicurezza."
                ),
                languages=("it", "ar", "sq"),
                monthly_capacity=4,
                verified_days_ago=100,
                age_max=65,
            ),
        ),
        accreditation=AccreditationSpec(
            sequence=175,
            granted_days_ago=700,
            expires_in_days=400,
            functions=("information", "counselling"),
            status="suspended",
            status_reason="Sospeso in attesa del rinnovo della polizza assicurativa",
            verified_days_ago=12,
        ),
    ),
    # 10: hub and job service that just updated its data: accreditation pending.
    OrgSpec(
        name="Associazione Falchera Bene Comune APS",
        legal_form="aps",
        tax_base="9790153001",
        runts_section="b",
        runts_number="61048",
        address="via degli Ulivi 8",
        postal_code="10156",
        circoscrizione=6,
        phone="011 2623409",
        domain="falcherabenecomune",
        description=(
            "Associazione di promozione sociale che a Falchera distribuisce panieri alimentari e "
            "ha da poco aperto un punto di orientamento per i giovani."
        ),
        is_job_service=True,
        is_hub=True,
        sites=(
            SiteSpec(
                name="Snodo e punto giovani di Falchera",
                address="via degli Ulivi 8",
                postal_code="10156",
                circoscrizione=6,
                opening_hours="lun e gio 9:00-12:00 (distribuzione); mar e ven 15:00-18:00",
                phone="011 2623409",
                is_hub=True,
                distribution_days=("mon", "thu"),
                households_served=70,
            ),
        ),
        services=(
            ServiceSpec(
                name="Punto digitale Falchera",
                service_type="digital_skills",
                description=(
                    "Assistenza per SPID, candidature online e uso dello smartphone per cercare "
                    "lavoro."
                ),
                languages=("it", "ar", "ro"),
                monthly_capacity=10,
                verified_days_ago=3,
                age_min=16,
            ),
            ServiceSpec(
                name="Orientamento giovani Falchera",
                service_type="orientation",
                description=(
                    "Incontri di gruppo e colloqui per giovani NEET del quartiere, in "
                    "collaborazione con le scuole e il centro di aggregazione."
                ),
                languages=("it", "ar", "fr", "wo"),
                monthly_capacity=8,
                verified_days_ago=3,
                age_max=29,
                youth_focus=True,
                neet_focus=True,
            ),
        ),
        accreditation=AccreditationSpec(
            sequence=503,
            granted_days_ago=20,
            expires_in_days=1075,
            functions=("information", "orientation"),
            status="pending",
            status_reason="Dati dell'ente aggiornati: in attesa di verifica da parte della Città",
        ),
    ),
    # 11: job service whose accreditation has expired.
    OrgSpec(
        name="Cooperativa Sociale Lingotto Lavoro",
        legal_form="coop_a",
        tax_base="0965724001",
        runts_section="d",
        runts_number="43569",
        address="via Nizza 230",
        postal_code="10126",
        circoscrizione=8,
        phone="011 6632958",
        domain="lingottolavoro",
        description=(
            "Cooperativa sociale che accompagna al lavoro persone seguite dai servizi di Nizza "
            "Millefonti e Lingotto."
        ),
        is_job_service=True,
        sites=(
            SiteSpec(
                name="Sede del Lingotto",
                address="via Nizza 230",
                postal_code="10126",
                circoscrizione=8,
                opening_hours="lun-ven 9:00-12:30",
                phone="011 6632958",
            ),
        ),
        services=(
            ServiceSpec(
                name="Accompagnamento al lavoro Lingotto",
                service_type="job_placement",
                description=(
                    "Ricerca di opportunità nella grande distribuzione e nei servizi, con "
                    "affiancamento nei primi mesi di lavoro."
                ),
                languages=("it", "es", "pt", "en"),
                monthly_capacity=6,
                verified_days_ago=150,
                age_max=65,
            ),
            ServiceSpec(
                name="Curriculum e colloqui",
                service_type="job_search",
                description="Laboratorio settimanale per preparare curriculum e colloqui.",
                languages=("it", "ar", "fr"),
                monthly_capacity=10,
                verified_days_ago=130,
                age_min=16,
            ),
        ),
        accreditation=AccreditationSpec(
            sequence=64,
            granted_days_ago=1135,
            expires_in_days=-40,
            functions=("information", "counselling", "orientation"),
            status="expired",
            status_reason="Accreditamento scaduto: rinnovo non ancora richiesto",
            verified_days_ago=39,
        ),
    ),
    # 12: religious body running a hub and solidarity housing in Aurora.
    OrgSpec(
        name="Congregazione Suore del Buon Cammino",
        legal_form="ente_religioso",
        tax_base="8053917001",
        runts_section="g",
        runts_number="33182",
        address="via Aosta 24",
        postal_code="10152",
        circoscrizione=7,
        phone="011 2471856",
        domain="buoncammino",
        description=(
            "Ente religioso che con il suo ramo del Terzo settore gestisce uno snodo alimentare "
            "ad Aurora e una casa di ospitalità per donne con bambini."
        ),
        is_hub=True,
        is_housing_provider=True,
        sites=(
            SiteSpec(
                name="Snodo Torino Solidale Aurora",
                address="via Aosta 24",
                postal_code="10152",
                circoscrizione=7,
                opening_hours="mar e ven 14:30-17:30",
                phone="011 2471856",
                is_hub=True,
                distribution_days=("tue", "fri"),
                households_served=180,
            ),
            SiteSpec(
                name="Casa di ospitalità Buon Cammino",
                address="corso Casale 212",
                postal_code="10132",
                circoscrizione=7,
                opening_hours="segreteria lun-sab 9:00-12:00",
            ),
        ),
    ),
    # 13: volunteer organization with a hub and temporary housing in Borgo Vittoria.
    OrgSpec(
        name="Associazione Borgo Vittoria Accoglienza ODV",
        legal_form="odv",
        tax_base="9768342001",
        runts_section="a",
        runts_number="30751",
        address="via Chiesa della Salute 77",
        postal_code="10147",
        circoscrizione=5,
        phone="011 2164395",
        domain="borgovittoriaaccoglienza",
        description=(
            "Organizzazione di volontariato che distribuisce beni di prima necessità e gestisce "
            "posti letto di pronta accoglienza a Borgo Vittoria."
        ),
        is_hub=True,
        is_housing_provider=True,
        sites=(
            SiteSpec(
                name="Snodo Torino Solidale Borgo Vittoria",
                address="via Chiesa della Salute 77",
                postal_code="10147",
                circoscrizione=5,
                opening_hours="gio 15:00-18:00; sab 9:30-12:30",
                phone="011 2164395",
                is_hub=True,
                distribution_days=("thu", "sat"),
                households_served=95,
            ),
        ),
    ),
    # 14: former hub in Cit Turin, no longer active.
    OrgSpec(
        name="Associazione Cit Turin Insieme ODV",
        legal_form="odv",
        tax_base="9739568001",
        runts_section="a",
        runts_number="27694",
        address="corso Francia 41",
        postal_code="10138",
        circoscrizione=3,
        phone="011 4339172",
        domain="citturininsieme",
        description=(
            "Organizzazione di volontariato che ha gestito uno snodo a Cit Turin; attività "
            "sospesa dall'inizio dell'anno per mancanza di volontari."
        ),
        is_hub=True,
        active=False,
        sites=(
            SiteSpec(
                name="Ex snodo di Cit Turin",
                address="corso Francia 41",
                postal_code="10138",
                circoscrizione=3,
                opening_hours="chiuso",
                is_hub=True,
                distribution_days=("wed",),
                households_served=40,
            ),
        ),
    ),
    # 15: social enterprise for digital skills in Campidoglio.
    OrgSpec(
        name="Campidoglio Digitale Impresa Sociale",
        legal_form="impresa_sociale",
        tax_base="1184096001",
        runts_section="d",
        runts_number="48833",
        address="via Nicola Fabrizi 47",
        postal_code="10143",
        circoscrizione=4,
        phone="011 7712048",
        domain="campidogliodigitale",
        description=(
            "Impresa sociale che forma giovani e adulti alle competenze digitali e accompagna "
            "chi vuole avviare un lavoro autonomo nel web."
        ),
        is_job_service=True,
        sites=(
            SiteSpec(
                name="Laboratorio di Campidoglio",
                address="via Nicola Fabrizi 47",
                postal_code="10143",
                circoscrizione=4,
                opening_hours="lun-ven 9:00-18:00",
                phone="011 7712048",
            ),
        ),
        services=(
            ServiceSpec(
                name="Competenze digitali di base",
                service_type="digital_skills",
                description=(
                    "Corso di 40 ore su computer, posta elettronica, documenti condivisi e "
                    "sicurezza in rete."
                ),
                languages=("it", "en", "es", "zh"),
                monthly_capacity=14,
                verified_days_ago=55,
                age_min=16,
            ),
            ServiceSpec(
                name="Sviluppo web per giovani",
                service_type="training",
                description=(
                    "Percorso intensivo di tre mesi su HTML, CSS e JavaScript con progetto "
                    "finale per un'organizzazione del territorio."
                ),
                languages=("it", "en", "uk"),
                monthly_capacity=8,
                verified_days_ago=85,
                age_max=29,
                youth_focus=True,
                neet_focus=True,
            ),
            ServiceSpec(
                name="Lavoro autonomo e partita IVA",
                service_type="self_employment",
                description=(
                    "Consulenze su regime forfettario, piano d'impresa e bandi per l'avvio di "
                    "attività individuali."
                ),
                languages=("it", "en", "ar"),
                monthly_capacity=5,
                verified_days_ago=65,
            ),
        ),
        accreditation=AccreditationSpec(
            sequence=468,
            granted_days_ago=150,
            expires_in_days=1050,
            functions=("information", "counselling", "orientation"),
            verified_days_ago=140,
        ),
    ),
)
