"""What to measure, as data: targets, scenarios, profiles, the plan of cells, config files
and the claims ledger. Pure: nothing here does I/O (tests/test_purity.py)."""
