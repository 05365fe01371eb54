"""DefectLab's database backends: Django's own, writing JSON columns with orjson (defectlab/json_output.py).
settings.py swaps them in for Django's PostgreSQL and SQLite engines; nothing else differs."""
