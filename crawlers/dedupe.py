"""Cross-source identity of a call.

Two sources publish the same call in two ways: with the same link (an aggregator that points
to the funder's page), or under their own link with a reworded title. The first is caught by
the canonical URL; the second by near-duplicate titles: MinHash band keys (locality-sensitive hashing) find candidates in
the database cheaply, then the candidates are compared on their title words and must have a
compatible deadline. Calls of one source never merge with each other by similarity: a
source's own ids already tell its calls apart ("Convocatoria 950" and "951").
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
from sqlalchemy import Select, bindparam, insert, select

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from crawlers.items import Opportunity as OpportunityData

_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "_ga")

# MinHash of the title's word set: 10 bands of 3 rows. Two titles whose word sets have a
# Jaccard similarity of 0.6 share a band with probability 0.9, of 0.3 with probability 0.24.
NUM_PERM = 30
BANDS = 10
ROWS = NUM_PERM // BANDS
SEED = 20270101

# Accept a pair as the same call when its titles are this similar and the deadlines agree;
# with a deadline unknown on either side the titles must be nearly identical.
SIMILAR_WITH_DEADLINE = 0.6
SIMILAR_WITHOUT_DEADLINE = 0.85
# Deadlines written in two time zones, or as a date without a time, still agree.
DEADLINE_TOLERANCE = timedelta(hours=36)

_STOPWORDS = frozenset(
    "a al and as at by de del el en for from in la las los of on or para por the to with y e o u un una "
    "call calls convocatoria convocatorias proposals propuestas open abierta new nueva".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def canonical_url(url: str) -> str:
    """Scheme-, www-, fragment- and tracking-insensitive form; query keys sorted."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = parts.path.rstrip("/") or "/"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not k.lower().startswith(_TRACKING))
    return urlunsplit(("", host, path, urlencode(query), ""))[2:][:1000]


def title_words(title: str | None) -> frozenset[str]:
    """Accent-, case- and punctuation-insensitive content words of a title."""
    if not title:
        return frozenset()
    folded = "".join(c for c in unicodedata.normalize("NFKD", title) if not unicodedata.combining(c)).lower()
    return frozenset(w for w in _WORD.findall(folded) if w not in _STOPWORDS and (len(w) > 1 or w.isdigit()))


def title_similarity(a: frozenset[str], b: frozenset[str], *, containment: bool = True) -> float:
    """Jaccard of the word sets. With `containment`, a title whose words all appear in a longer
    one (an aggregator adds "EU", "Apply now: …") counts as close too."""
    if not a or not b:
        return 0.0
    common = len(a & b)
    jaccard = common / len(a | b)
    smaller = min(len(a), len(b))
    contained = common / smaller if containment and smaller >= 5 else 0.0
    return max(jaccard, 0.95 * contained)


# MinHash with the usual affine hash family h(x) = (a·x + b) mod p over 32-bit word hashes;
# p is the first prime above 2^32, so a·x + b stays inside 64 bits.
_PRIME = np.uint64(4294967311)


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(SEED)
    a = rng.randint(1, 2**32 - 1, size=NUM_PERM, dtype=np.uint64)
    b = rng.randint(0, 2**32 - 1, size=NUM_PERM, dtype=np.uint64)
    return a, b


def minhash(words: frozenset[str]) -> np.ndarray:
    """NUM_PERM minimum hash values of a non-empty word set."""
    a, b = _permutations()
    hashes = np.fromiter((int.from_bytes(hashlib.blake2b(w.encode(), digest_size=4).digest(), "little")
                          for w in sorted(words)), dtype=np.uint64, count=len(words))
    return ((np.outer(hashes, a) + b) % _PRIME).min(axis=0)


@lru_cache(maxsize=4096)
def _band_keys(words: frozenset[str]) -> tuple[str, ...]:
    values = minhash(words)
    return tuple(f"{band}:{hashlib.blake2b(values[band * ROWS:(band + 1) * ROWS].tobytes(), digest_size=10).hexdigest()}"
                 for band in range(BANDS))


def band_keys(words: frozenset[str]) -> list[str]:
    """The MinHash band keys of a word set (empty for an empty set)."""
    return list(_band_keys(words)) if words else []


def deadlines_compatible(a: list[datetime], b: list[datetime]) -> bool | None:
    """True when some deadline of `a` and of `b` are the same moment give or take a day;
    None when either side states none."""
    if not a or not b:
        return None
    return any(abs(x - y) <= DEADLINE_TOLERANCE for x in a for y in b)


def is_same_call(words_a: frozenset[str], deadlines_a: list[datetime],
                 words_b: frozenset[str], deadlines_b: list[datetime]) -> bool:
    compatible = deadlines_compatible(deadlines_a, deadlines_b)
    if compatible is False:
        return False
    # Without a deadline to agree on, a shorter title inside a longer one proves too little.
    similarity = title_similarity(words_a, words_b, containment=bool(compatible))
    threshold = SIMILAR_WITH_DEADLINE if compatible else SIMILAR_WITHOUT_DEADLINE
    return similarity >= threshold


@dataclass(frozen=True)
class Duplicate:
    opportunity_id: int
    how: str  # "url" or "near"


def stored_deadlines(values: list[str] | None) -> list[datetime]:
    out = []
    for v in values or []:
        try:
            out.append(datetime.fromisoformat(v))
        except (TypeError, ValueError):
            continue
    return out


@lru_cache(maxsize=1)
def _lookups() -> tuple[Select[int], Select[int, str, list[str]]]:
    """The two lookups, built once with bound parameters: they run once per crawled item."""
    from models import DedupKey, Opportunity, OpportunityLink

    by_url = (select(OpportunityLink.opportunity_id)
              .where(OpportunityLink.canonical_url == bindparam("url"))
              .order_by(OpportunityLink.id).limit(1))
    by_keys = (select(Opportunity.id, Opportunity.title, Opportunity.deadlines)
               .where(Opportunity.id.in_(select(DedupKey.opportunity_id)
                                         .where(DedupKey.key.in_(bindparam("keys", expanding=True)))))
               .where(Opportunity.source != bindparam("source"))
               .order_by(Opportunity.id))
    return by_url, by_keys


@lru_cache(maxsize=1)
def _link_lookup() -> Select[Any]:
    from models import OpportunityLink

    return select(OpportunityLink.id).where(OpportunityLink.source == bindparam("source"),
                                            OpportunityLink.source_id == bindparam("source_id"))


def is_known(session: Session, source: str, source_id: str) -> bool:
    """Whether (source, source_id) is already linked to an opportunity."""
    session.flush()
    return session.connection().execute(_link_lookup(), {"source": source, "source_id": source_id}).first() is not None


def find_duplicate(session: Session, data: OpportunityData) -> Duplicate | None:
    """An opportunity already stored that is this call, published by another source."""
    by_url, by_keys = _lookups()
    session.flush()
    connection = session.connection()
    opp_id = connection.execute(by_url, {"url": canonical_url(data.url)}).scalar()
    if opp_id is not None:
        return Duplicate(opp_id, "url")
    words = title_words(data.title)
    keys = band_keys(words)
    if not keys:
        return None
    mine = sorted(data.deadlines)
    for candidate_id, title, deadlines in connection.execute(by_keys, {"keys": keys, "source": data.source}):
        if is_same_call(words, mine, title_words(title), stored_deadlines(deadlines)):
            return Duplicate(candidate_id, "near")
    return None


def store_keys(session: Session, opportunity_id: int, title: str) -> None:
    from models import DedupKey

    keys = band_keys(title_words(title))
    if keys:
        session.connection().execute(insert(DedupKey), [{"opportunity_id": opportunity_id, "key": k} for k in keys])
