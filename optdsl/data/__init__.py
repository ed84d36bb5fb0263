"""optdsl/data"""
