"""solvers/highs"""
