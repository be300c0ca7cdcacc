"""A small realistic database for the web tests: the real configs, calls stored through the real
persistence layer (with a deadline extension and a second source), scored by the real matcher."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from convoca.cycle import sync_configs
from convoca.settings import Settings
from crawlers.items import Opportunity as Call
from crawlers.persistence import upsert_opportunity
from matcher.service import run_matching
from models import Match, Municipality, Opportunity
from models.db import session_scope
from web.accounts import add_user

PASSWORD = "clave-de-prueba-123"
XSS_MARK = "Empleo juvenil"
# Markup as plain text in a scraped title: it must be shown as text and never run.
XSS_TITLE = ('<script>document.documentElement.dataset.xss="script"</script>'
             '<img src=x onerror="document.documentElement.dataset.xss=\'img\'"> '
             'Empleo juvenil y permanencia escolar en ciudades de América Latina')


@dataclass(frozen=True)
class Seeded:
    database_url: str
    medellin_user: str = "formuladora@medellin.gov.co"
    envigado_user: str = "planeacion@envigado.gov.co"
    amva_user: str = "cooperacion@amva.gov.co"
    password: str = PASSWORD


def _calls(now: datetime) -> list[Call]:
    d = lambda days: now + timedelta(days=days)
    return [
        Call(source="eu_sedia", source_id="CHILD-2027", url="https://funding.example.org/calls/early-childhood-2027",
             title="Early childhood care and nutrition in vulnerable urban neighbourhoods",
             description=(
                 "Grants for local governments in Latin America that run integrated early childhood programmes: "
                 "comprehensive care for children under five, nutrition, preschool education and support to "
                 "families in vulnerable urban districts. Municipalities may apply alone or with NGOs."),
             language="en", funder="Fundación Infancia Global", cooperation_type="financial_non_reimbursable",
             status="open", deadline=d(40), deadlines=[d(40)], amount_max=500_000.0, currency="USD",
             amount_cop=2_000_000_000.0, eligible_countries=["CO", "PE", "EC"],
             eligible_applicants=["local_government", "ngo"], topics=["early childhood", "nutrition"]),
        Call(source="apc_colombia", source_id="APC-INNOV-7", url="https://apc.example.gov.co/convocatorias/innovacion-publica",
             title="Cooperación técnica para laboratorios de innovación pública y gobierno digital",
             description=(
                 "Asistencia técnica a alcaldías para crear laboratorios de innovación pública, datos abiertos, "
                 "trámites digitales y gobierno abierto. Incluye mentorías, intercambio de experiencias entre "
                 "ciudades y formación de servidores públicos en analítica de datos."),
             language="es", funder="Agencia de Cooperación de Corea", cooperation_type="technical", status="open",
             deadline=d(55), deadlines=[d(55)], eligible_countries=["CO"],
             eligible_applicants=["local_government", "public_entity"], topics=["gobierno digital"]),
        Call(source="eu_sedia", source_id="GBV-URBAN", url="https://funding.example.org/calls/gbv-urban",
             title="Prevención de violencias basadas en género y atención a mujeres y niñas en ciudades",
             description=(
                 "Subvenciones para gobiernos locales y organizaciones de mujeres que prevengan la violencia contra "
                 "mujeres y niñas, fortalezcan rutas de atención, casas refugio y la autonomía económica de las "
                 "sobrevivientes en barrios urbanos."),
             language="es", funder="Unión Europea", cooperation_type="financial_non_reimbursable", status="open",
             deadline=d(90), deadlines=[d(90)], amount_min=200_000.0, amount_max=400_000.0, currency="EUR",
             amount_cop=1_700_000_000.0, eligible_countries=["*"], eligible_applicants=["local_government", "ngo"]),
        Call(source="eu_sedia", source_id="EWS-HILLS", url="https://funding.example.org/calls/early-warning-hillsides",
             title="Community early warning systems and landslide risk reduction in hillside settlements",
             description=(
                 "Technical cooperation for cities exposed to landslides and flash floods: community early warning "
                 "systems, monitoring of streams and slopes, resettlement planning for households at risk and "
                 "strengthening of municipal emergency operations centres."),
             language="en", funder="Global Facility for Disaster Reduction", cooperation_type="technical",
             status="open", deadline=d(70), deadlines=[d(70)], eligible_countries=["CO"],
             eligible_applicants=["local_government"], topics=["disaster risk", "early warning"]),
        Call(source="eu_sedia", source_id="YOUTH-EMP", url="https://funding.example.org/calls/youth-employment",
             title=XSS_TITLE,
             description=(
                 "Grants to keep teenagers in secondary school, ease the transition to higher education and "
                 "help young people find their first job: tutoring, vocational training and employment services "
                 "run by municipalities in Latin American cities."),
             language="en", funder="<b>Youth Futures Fund</b>", cooperation_type="financial_non_reimbursable",
             status="open", deadline=d(65), deadlines=[d(65)], amount_max=300_000.0, currency="USD",
             amount_cop=1_200_000_000.0, eligible_countries=["CO"], eligible_applicants=["local_government"]),
        Call(source="apc_colombia", source_id="APC-NUTRI-3", url="https://apc.example.gov.co/convocatorias/nutricion-infantil",
             title="Alimentación escolar y nutrición de la primera infancia en municipios",
             description=(
                 "Recursos no reembolsables para alcaldías que amplíen la atención integral a niñas y niños menores "
                 "de cinco años: complementos nutricionales, educación inicial, formación de agentes educativos y "
                 "seguimiento del estado nutricional en comunas vulnerables, articulados con programas de hambre cero."),
             language="es", funder="Programa Mundial de Alimentos", cooperation_type="financial_non_reimbursable",
             status="open", deadline=d(75), deadlines=[d(75)], amount_max=350_000.0, currency="USD",
             amount_cop=1_400_000_000.0, eligible_countries=["CO"], eligible_applicants=["local_government"]),
        Call(source="eu_sedia", source_id="URBAN-FOOD", url="https://funding.example.org/calls/urban-food-gardens",
             title="Urban and peri-urban gardens for food security in Latin American cities",
             description=(
                 "Grants for municipalities that set up community gardens, short supply chains with rural producers "
                 "and food waste reduction in low-income neighbourhoods, as part of zero hunger strategies."),
             language="en", funder="FAO", cooperation_type="financial_non_reimbursable", status="open",
             deadline=d(85), deadlines=[d(85)], amount_max=250_000.0, currency="USD", amount_cop=1_000_000_000.0,
             eligible_countries=["*"], eligible_applicants=["local_government", "ngo"]),
        Call(source="eu_sedia", source_id="OPEN-DATA-2", url="https://funding.example.org/calls/open-government-cities",
             title="Open government and digital public services for city halls",
             description=(
                 "Technical assistance and peer exchanges for municipal governments that publish open data, digitise "
                 "citizen services and build interoperable platforms, with training for civil servants."),
             language="en", funder="Open Cities Alliance", cooperation_type="technical", status="open",
             deadline=d(100), deadlines=[d(100)], eligible_countries=["*"], eligible_applicants=["local_government"]),
        Call(source="eu_sedia", source_id="SAFE-CITIES", url="https://funding.example.org/calls/safe-cities-women",
             title="Safe cities for women and girls: preventing gender-based violence in public spaces",
             description=(
                 "Grants for local governments and women's organisations that prevent violence against women and "
                 "girls, strengthen care routes for survivors and train police and municipal staff."),
             language="en", funder="UN Women", cooperation_type="financial_non_reimbursable", status="open",
             deadline=d(110), deadlines=[d(110)], amount_max=300_000.0, currency="USD", amount_cop=1_200_000_000.0,
             eligible_countries=["*"], eligible_applicants=["local_government", "ngo"]),
        Call(source="eu_sedia", source_id="HILLSIDE-HOUSING", url="https://funding.example.org/calls/hillside-resettlement",
             title="Resettlement of households from high-risk hillside areas and slope stabilisation",
             description=(
                 "Technical cooperation for city governments that map landslide risk, carry out a census of exposed "
                 "households, plan phased resettlement and build slope stabilisation works along urban streams."),
             language="en", funder="Global Facility for Disaster Reduction", cooperation_type="technical",
             status="open", deadline=d(95), deadlines=[d(95)], eligible_countries=["CO"],
             eligible_applicants=["local_government"]),
        Call(source="eu_sedia", source_id="SCHOLAR-1", url="https://funding.example.org/calls/master-scholarships",
             title="Master's scholarships in urban planning for individuals",
             description="Scholarships for individual students to study urban planning abroad.",
             language="en", funder="University consortium", cooperation_type="scholarship_exchange", status="open",
             deadline=d(80), deadlines=[d(80)], eligible_applicants=["individual"]),
        Call(source="eu_sedia", source_id="SOON-1", url="https://funding.example.org/calls/closing-soon",
             title="Early childhood nutrition grants closing next week",
             description="Grants for early childhood nutrition programmes run by municipalities.",
             language="en", cooperation_type="financial_non_reimbursable", status="open",
             deadline=d(7), deadlines=[d(7)]),
    ]


def seed(database_url: str, settings: Settings, *, now: datetime | None = None) -> Seeded:
    now = now or datetime.now(UTC)
    calls = _calls(now)
    with session_scope(database_url) as session:
        sync_configs(session, settings)
        for call in calls:
            upsert_opportunity(session, call, now=now - timedelta(days=14))
        # A week later the first call's deadline is extended: a version row.
        first = calls[0]
        extended = first.model_copy(update={"deadline": now + timedelta(days=60), "deadlines": [now + timedelta(days=60)]})
        upsert_opportunity(session, extended, now=now - timedelta(days=7))
        # Another source publishes the same call: one more link, not a new opportunity.
        upsert_opportunity(session, extended.model_copy(update={"source": "fundsforngos", "source_id": "ffn-777"}),
                           now=now - timedelta(days=7))
    with session_scope(database_url) as session:
        run_matching(session, settings.model_copy(update={"database_url": database_url}))
    seeded = Seeded(database_url)
    with session_scope(database_url) as session:
        add_user(session, seeded.medellin_user, PASSWORD, "medellin", "Formuladora Medellín")
        add_user(session, seeded.envigado_user, PASSWORD, "envigado")
        add_user(session, seeded.amva_user, PASSWORD, "amva", "Cooperación AMVA")
    return seeded


def match_ids(database_url: str, slug: str, *, title_contains: str | None = None) -> list[int]:
    with session_scope(database_url) as session:
        query = (select(Match.id).join(Municipality, Municipality.id == Match.municipality_id)
                 .join(Opportunity, Opportunity.id == Match.opportunity_id)
                 .where(Municipality.slug == slug, Match.passed_filters.is_(True))
                 .order_by(Match.score.desc()))
        if title_contains:
            query = query.where(Opportunity.title.contains(title_contains))
        return list(session.scalars(query))
