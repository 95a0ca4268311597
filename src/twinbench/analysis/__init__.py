"""The pure analysis core: histograms, statistics, validity, capacity, the headline,
verdicts and comparisons. No I/O (tests/test_purity.py): it takes loaded results and
returns frozen dataclasses."""
