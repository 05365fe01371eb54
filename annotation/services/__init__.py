"""Writes. Each service owns its transaction; other apps change annotation rows only through these."""
