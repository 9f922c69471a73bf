"""Codici fiscali for generated people: the demo's generator, made unique across a whole city.

The body (surname, name, birth date and sex, birthplace) is computed as the demo does
(`app.households.demo`); when two people would share a code, the first free homocode variant is
taken, as the Agenzia delle Entrate does. Every code is valid for
`stdnum.it.codicefiscale.is_valid` and consistent with the person's birth date and sex.
"""

from __future__ import annotations

from datetime import date

from app.households.demo import codice_fiscale_body, unique_codice_fiscale


class CodiceFiscaleRegistry:
    """Hands out codici fiscali that are unique within one generation run."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def new(self, last_name: str, first_name: str, birth_date: date, sex: str, place: str) -> str:
        body = codice_fiscale_body(last_name, first_name, birth_date, sex, place)
        code = unique_codice_fiscale(body, self.taken)
        self.taken.add(code)
        return code

    def __len__(self) -> int:
        return len(self.taken)
