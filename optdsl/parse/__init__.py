"""optdsl/parse"""
