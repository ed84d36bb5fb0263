"""optdsl/conformance"""
