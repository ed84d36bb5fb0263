"""optdsl/parse: model text to the AST."""
