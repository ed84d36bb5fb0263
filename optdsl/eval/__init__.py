"""optdsl/eval"""
