"""The mediagate command line: serve, keys and generate."""
