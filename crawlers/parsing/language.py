"""Language of a call (es/en/fr/pt) with lingua, restricted to the four languages Convoca serves.

Restricting the candidate set keeps the loaded models small (about 100 MB instead of more
than 1 GB for all languages) and makes short texts far more reliable. The detector is built
on first use, never at import time.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingua import LanguageDetector

SUPPORTED = ("es", "en", "fr", "pt")
# Fewer letters than this say too little about a language; the field stays unknown.
MIN_LETTERS = 12


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    from lingua import Language, LanguageDetectorBuilder

    return (LanguageDetectorBuilder
            .from_languages(Language.SPANISH, Language.ENGLISH, Language.FRENCH, Language.PORTUGUESE)
            .with_minimum_relative_distance(0.05)
            .build())


def detect_language(text: str | None) -> str | None:
    """ISO 639-1 code of the text's language, or None when too short or ambiguous."""
    if not text or sum(ch.isalpha() for ch in text[:400]) < MIN_LETTERS:
        return None
    found = _detector().detect_language_of(text[:3000])
    if found is None:
        return None
    code = found.iso_code_639_1.name.lower()
    return code if code in SUPPORTED else None
