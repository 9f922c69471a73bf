"""Data-subject rights across every domain: a person's full extract and a household's erasure.

This is cross-domain orchestration, so it has its own package above the domains rather than a
place inside `households`: it reads and anonymises households, distributions, referrals,
placements, risk cases, projects, consents and notifications, and may import all of them, while
`households` imports none of the domains built on it (the import-linter contracts in
pyproject.toml). A registry where each domain contributes its part was the alternative; one
module that shows the whole extract and the whole erasure in order is easier to review for a
rule (GDPR art. 15 and 17) that must miss nothing. The pages keep their URLs under /households.
"""

from flask import Blueprint

bp = Blueprint("rights", __name__, url_prefix="/households")

from app.rights import views  # noqa: E402, F401
