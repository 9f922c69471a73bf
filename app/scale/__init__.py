"""City-scale data for benchmarks and indexes: `flask --app wsgi seed-scale --households N`.

`generate.seed_scale()` fills an empty database with the figures of DESIGN.md ("Scale we design
for") multiplied by a scale; `codici` hands out unique, valid codici fiscali; `writer` does the
bulk inserts.
"""

from app.scale.generate import CITY, HOUSEHOLDS_AT_SCALE_1, database_is_empty, seed_scale, targets

__all__ = ["CITY", "HOUSEHOLDS_AT_SCALE_1", "database_is_empty", "seed_scale", "targets"]
