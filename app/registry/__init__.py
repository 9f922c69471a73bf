"""The shared registry of organizations (accredited entities, hubs, housing providers)."""
