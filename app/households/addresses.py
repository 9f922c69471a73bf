"""Addresses written the way people write them, reduced to one form for comparing.

"Via Sempione, 45", "via sempione 45" and "V. Sempione 45" are the same address: lower-cased,
punctuation dropped, spaces collapsed, the common abbreviations spelt out.
"""

from __future__ import annotations

import re
import unicodedata

ABBREVIATIONS = {
    "v": "via",
    "c.so": "corso",
    "c so": "corso",
    "cso": "corso",
    "p.za": "piazza",
    "p.zza": "piazza",
    "pza": "piazza",
    "pzza": "piazza",
    "p.le": "piazzale",
    "ple": "piazzale",
    "v.le": "viale",
    "vle": "viale",
    "str": "strada",
    "l.go": "largo",
    "lgo": "largo",
    "lung": "lungo",
    "b.go": "borgo",
    "bgo": "borgo",
    "vic": "vicolo",
}
_DOTTED = sorted((k for k in ABBREVIATIONS if "." in k or " " in k), key=len, reverse=True)


def normalise_address(address: str | None) -> str:
    """One comparable form of an address; "" when there is none."""
    text = unicodedata.normalize("NFKD", (address or "").lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = " ".join(text.split())
    for dotted in _DOTTED:  # "c.so", "p.za": abbreviations whose dot is inside the word
        if text.startswith(dotted) or f" {dotted}" in text:
            text = re.sub(rf"(^|\s){re.escape(dotted)}\.?(?=\s|$|\w)", rf"\1{ABBREVIATIONS[dotted]} ", text)
    words = re.sub(r"[^\w]+", " ", text).split()
    return " ".join(ABBREVIATIONS.get(word, word) if i == 0 else word for i, word in enumerate(words))
