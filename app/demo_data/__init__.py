"""The demo's data, apart from the code that loads it (`app/demo.py` and each domain's `demo.py`):
the organizations, accounts, units, stories and texts, as plain Python literals."""
