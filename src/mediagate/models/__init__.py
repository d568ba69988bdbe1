"""Each model family's catalogue rows, one TOML file a family (see core.catalogue)."""
