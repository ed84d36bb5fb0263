"""optdsl"""
