"""The grammar of the .opt language, shipped inside the package."""
