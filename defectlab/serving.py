"""Garbage-collector settings for a serving process, applied once its code is loaded (defectlab/wsgi.py)."""

import gc

# The cyclic collector runs a young-generation pass every GEN0_THRESHOLD new container objects. A big request
# makes hundreds of thousands (the worst annotation save the geometry budget allows parses, traces and encodes
# 10,000 vertices as [x, y] lists several times), and at CPython's default of 700 the passes it triggers, and the
# full ones they cascade into, took a third of such a save's CPU in about half the runs (bench/geometry_abuse.py:
# 120-140 ms without them, 420-470 ms with). Request objects are freed by reference counting anyway; cycles wait
# a little longer, which costs a few MB at most.
GEN0_THRESHOLD = 50_000
GEN1_THRESHOLD = 20
GEN2_THRESHOLD = 20


def collector_tune_for_serving() -> None:
    """Move everything loaded so far out of the collector's sight (it lives as long as the process) and make the
    young-generation passes rarer."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)
