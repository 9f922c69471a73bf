"""Project pages, one module per part: the list and its exports (`listing`), a project's data,
page and steps (`project`), its goals and meetings (`goals`), its life budget and the programme's
financial progress (`budget`); what they share is in `common`. All on the `projects` blueprint."""

from app.projects.views import budget, goals, listing, project  # noqa: F401
