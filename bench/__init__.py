"""Benchmarks: ``make bench`` runs them and prints figures. Nothing here is asserted: these
machines are noisy, so every figure is compared with a bare baseline measured in the same run.
"""
