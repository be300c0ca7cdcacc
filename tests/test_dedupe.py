"""Cross-source dedup: canonical URL, then near-duplicate titles with a compatible deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from crawlers.dedupe import (
    band_keys,
    canonical_url,
    deadlines_compatible,
    find_duplicate,
    is_same_call,
    title_similarity,
    title_words,
)
from crawlers.items import Opportunity as Data
from crawlers.persistence import merge_late_duplicates, upsert_opportunity
from crawlers.replay import RECORDINGS_DIR
from models import Opportunity, OpportunityLink, Source, SourceRun
from models.db import session_factory
from tests.crawl_helpers import run_spider

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
EU_TITLE = "Call for proposals: Local authorities and civil society for climate-resilient territories in Colombia"
POST_TITLE = "EU Call for Proposals: Local Authorities and Civil Society for Climate-Resilient Territories in Colombia"


def call(source: str, source_id: str, title: str, deadline: datetime | None, url: str | None = None) -> Data:
    return Data(source=source, source_id=source_id, url=url or f"https://{source}.example.org/{source_id}", title=title,
                deadline=deadline, deadlines=[deadline] if deadline else [])


def test_canonical_url_ignores_scheme_www_tracking_and_order():
    assert canonical_url("https://www.Example.org/a/?utm_source=x&b=2&a=1#top") == canonical_url("http://example.org/a?a=1&b=2")
    assert canonical_url("https://example.org/a?id=1") != canonical_url("https://example.org/a?id=2")


def test_title_words_fold_accents_case_and_call_words():
    assert title_words("Convocatoria: Gestión del RIESGO en Medellín 2027") == {"gestion", "riesgo", "medellin", "2027"}


def test_similar_titles_share_minhash_bands_and_different_ones_do_not():
    same = set(band_keys(title_words(EU_TITLE))) & set(band_keys(title_words(POST_TITLE)))
    other = set(band_keys(title_words(EU_TITLE))) & set(band_keys(title_words("Zero-emission urban bus fleets")))
    assert len(same) >= 5 and not other
    assert title_similarity(title_words(EU_TITLE), title_words(POST_TITLE)) > 0.85


def test_deadline_compatibility():
    a = datetime(2027, 2, 26, 15, tzinfo=UTC)  # 16:00 CET
    b = datetime(2027, 2, 26, 5, tzinfo=UTC)  # the same date written without a time, read in Bogotá
    assert deadlines_compatible([a], [b]) is True
    assert deadlines_compatible([a], [a + timedelta(days=30)]) is False
    assert deadlines_compatible([a], []) is None
    words_a, words_b = title_words(EU_TITLE), title_words(POST_TITLE)
    assert is_same_call(words_a, [a], words_b, [b])
    assert not is_same_call(words_a, [a], words_b, [a + timedelta(days=30)])  # another edition of the call
    # Without a deadline on one side only nearly identical titles count.
    assert is_same_call(words_a, [a], title_words(EU_TITLE + "."), [])
    assert not is_same_call(words_a, [a], title_words("Local authorities and civil society in Colombia"), [])


def test_find_duplicate_by_near_title_across_sources_only(session):
    deadline = datetime(2027, 2, 26, 15, tzinfo=UTC)
    first = upsert_opportunity(session, call("eu_sedia", "T-1", EU_TITLE, deadline), now=NOW)
    post = call("fundsforngos", "241101", POST_TITLE, datetime(2027, 2, 26, 5, tzinfo=UTC))
    found = find_duplicate(session, post)
    assert found is not None and (found.opportunity_id, found.how) == (first.opportunity_id, "near")
    # The same source publishing a similar title is another call of that source.
    assert find_duplicate(session, call("eu_sedia", "T-2", POST_TITLE, deadline)) is None
    # A similar title with another deadline is another call.
    assert find_duplicate(session, call("fundsforngos", "9", POST_TITLE, deadline + timedelta(days=200))) is None


def test_find_duplicate_by_canonical_url(session):
    first = upsert_opportunity(session, call("undp", "98312", "Convocatoria SGP 2027", None,
                                             url="https://procurement-notices.undp.org/view_notice.cfm?notice_id=98312"), now=NOW)
    other = call("gef_sgp", "x", "Something else entirely", None,
                 url="http://procurement-notices.undp.org/view_notice.cfm?notice_id=98312&utm_medium=web")
    found = find_duplicate(session, other)
    assert found is not None and (found.opportunity_id, found.how) == (first.opportunity_id, "url")


def test_late_duplicates_of_parallel_crawls_are_merged(session):
    """Two crawls at once cannot see each other's rows: both create the call; the sweep merges."""
    deadline = datetime(2027, 2, 26, 15, tzinfo=UTC)
    upsert_opportunity(session, call("eu_sedia", "T-1", EU_TITLE, deadline), now=NOW, duplicate=None)
    upsert_opportunity(session, call("fundsforngos", "241101", POST_TITLE, deadline), now=NOW, duplicate=None)
    upsert_opportunity(session, call("secop", "CO1", "Mantenimiento de ciclorrutas", deadline), now=NOW, duplicate=None)
    session.commit()
    assert merge_late_duplicates(session, since=NOW - timedelta(minutes=1)) == 1
    session.commit()
    assert session.scalar(select(func.count()).select_from(Opportunity)) == 2
    eu = session.scalars(select(Opportunity).where(Opportunity.source == "eu_sedia")).one()
    assert sorted((link.source, link.source_id) for link in eu.links) == [("eu_sedia", "T-1"), ("fundsforngos", "241101")]
    # A third crawl of the post updates the link of the merged call, it creates nothing.
    again = upsert_opportunity(session, call("fundsforngos", "241101", POST_TITLE, deadline), now=NOW)
    assert again.opportunity_id == eu.id and again.outcome == "unchanged"


def test_the_same_call_from_two_sources_is_one_opportunity_with_two_links(sqlite_url):
    """Real engine: the EU portal publishes the call, fundsforNGOs republishes it in its own words."""
    for source in ("eu_sedia", "fundsforngos"):
        proc = run_spider(source, [RECORDINGS_DIR / source], sqlite_url)
        assert proc.returncode == 0, proc.stderr[-3000:]
    with session_factory(sqlite_url)() as s:
        link = s.scalars(select(OpportunityLink).where(OpportunityLink.source == "fundsforngos",
                                                       OpportunityLink.source_id == "241101")).one()
        merged = link.opportunity
        assert (merged.source, merged.source_id) == ("eu_sedia", "EuropeAid-186730-DD-ACT-CO")
        assert {(one.source, one.url) for one in merged.links} == {
            ("eu_sedia", merged.url),
            ("fundsforngos", "https://www2.fundsforngos.org/latest-funds-for-ngos/eu-call-for-proposals-local-"
                             "authorities-and-civil-society-for-climate-resilient-territories-in-colombia/")}
        assert s.scalar(select(func.count()).select_from(Opportunity)) == 20 + 9 - 1
        run = s.scalars(select(SourceRun).join(Source).where(Source.slug == "fundsforngos")).one()
        assert (run.items_new, run.items_merged) == (8, 1)
