"""The twin apps (Flask and FastAPI) and the mock upstream. See apps/CONTRACT.md."""
