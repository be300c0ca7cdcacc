"""SQLAlchemy 2 typed models. Importing this package registers every table on `Base.metadata`."""

from models.base import Base
from models.digest import DigestEntry, DigestLedger
from models.embedding import EmbeddingCache
from models.feedback import Feedback
from models.match import Match
from models.municipality import Municipality, Profile
from models.opportunity import Opportunity, OpportunityLink, OpportunityVersion, SdgTag
from models.sdg import SdgText
from models.source import Source, SourceRun

__all__ = [
    "Base",
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
    "SdgText",
    "Source",
    "SourceRun",
]
