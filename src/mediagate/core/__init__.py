"""Domain core: tasks, the catalogue and services. No HTTP, no SQL."""
