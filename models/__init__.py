"""SQLAlchemy 2 typed models. Importing this package registers every table on `Base.metadata`."""

from models.base import Base
from models.dedup import DedupKey
from models.digest import DigestEntry, DigestLedger
from models.embedding import EmbeddingCache
from models.feedback import Feedback
from models.match import Match
from models.municipality import Municipality, Profile
from models.opportunity import Opportunity, OpportunityLink, OpportunityVersion, SdgTag
from models.source import Source, SourceRun

__all__ = [
    "Base",
    "DedupKey",
    "DigestEntry",
    "DigestLedger",
    "EmbeddingCache",
    "Feedback",
    "Match",
    "Municipality",
    "Opportunity",
    "OpportunityLink",
    "OpportunityVersion",
    "Profile",
    "SdgTag",
    "Source",
    "SourceRun",
]
