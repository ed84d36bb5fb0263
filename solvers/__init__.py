"""Backends (installed as optdsl.solvers): one folder per algorithm."""
