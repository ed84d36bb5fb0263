"""solvers/sketch_newton"""
