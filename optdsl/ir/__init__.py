"""optdsl/ir"""
