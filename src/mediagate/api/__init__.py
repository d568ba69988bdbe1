"""HTTP API: one module per dialect; each renders the core's errors in its own shape."""
