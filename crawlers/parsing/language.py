"""Language of a call (es/en/fr/pt) from function-word frequencies.

Function words are the most reliable signal on short, noisy texts and cost nothing to load.
"""

from __future__ import annotations

import re

_WORDS = re.compile(r"[a-záéíóúñçãõâêôàèùü]+", re.IGNORECASE)
_STOP = {
    "es": {"el", "la", "los", "las", "de", "del", "y", "en", "para", "por", "con", "una", "un", "que", "se",
           "su", "sus", "al", "como", "más", "convocatoria", "proyectos", "desarrollo"},
    "en": {"the", "and", "of", "to", "in", "for", "with", "on", "by", "is", "are", "be", "this", "that",
           "from", "an", "or", "will", "projects", "call"},
    "fr": {"le", "la", "les", "des", "et", "en", "pour", "par", "avec", "une", "un", "du", "dans", "sur",
           "est", "sont", "qui", "au", "aux", "projets"},
    "pt": {"o", "a", "os", "as", "de", "do", "da", "dos", "das", "e", "em", "para", "por", "com", "uma",
           "um", "que", "no", "na", "projetos", "não", "são"},
}


def detect_language(text: str | None, min_hits: int = 3) -> str | None:
    if not text:
        return None
    words = [w.lower() for w in _WORDS.findall(text[:5000])]
    scores = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOP.items()}
    best = max(scores, key=lambda k: scores[k])
    if scores[best] < min_hits:
        return None
    return best
