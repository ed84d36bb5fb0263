"""optdsl/lower"""
