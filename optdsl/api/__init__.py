"""optdsl/api"""
