"""Addresses written the way people write them, reduced to one form for comparing.

"Via Sempione, 45", "via sempione 45" and "V. Sempione 45" are the same address: lower-cased,
punctuation dropped, spaces collapsed, the common abbreviations spelt out.
"""

from __future__ import annotations

import re
import unicodedata

# The street type's usual abbreviations, once the punctuation is gone ("c.so" is "c so").
ABBREVIATIONS = {
    "v": "via", "c so": "corso", "cso": "corso", "p za": "piazza", "p zza": "piazza",
    "pza": "piazza", "pzza": "piazza", "p le": "piazzale", "ple": "piazzale", "v le": "viale",
    "vle": "viale", "str": "strada", "l go": "largo", "lgo": "largo", "b go": "borgo",
    "bgo": "borgo", "vic": "vicolo",
}  # fmt: skip


def normalise_address(address: str | None) -> str:
    """One comparable form of an address; "" when there is none."""
    text = unicodedata.normalize("NFKD", (address or "").lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    words = re.sub(r"[\W_]+", " ", text).split()
    if len(words) > 1 and f"{words[0]} {words[1]}" in ABBREVIATIONS:
        words = [ABBREVIATIONS[f"{words[0]} {words[1]}"], *words[2:]]
    elif words:
        words[0] = ABBREVIATIONS.get(words[0], words[0])
    return " ".join(words)
