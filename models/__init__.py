"""SQLAlchemy 2 typed models. Importing this package registers every table on `Base.metadata`."""

from models.base import Base
from models.dedup import DedupKey
from models.digest import DigestEdition, DigestEntry, DigestLedger
from models.embedding import EmbeddingCache
from models.feedback import Feedback
from models.match import Match
from models.municipality import Municipality, Profile
from models.opportunity import Opportunity, OpportunityLink, OpportunityVersion, SdgTag
from models.schedule import scheduler_jobs
from models.sdg import SdgText
from models.source import Source, SourceRun
from models.user import LoginThrottle, User

__all__ = [
    "Base",
    "DedupKey",
    "DigestEdition",
    "DigestEntry",
    "DigestLedger",
    "EmbeddingCache",
    "Feedback",
    "LoginThrottle",
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
    "scheduler_jobs",
    "User",
]
