"""Background work: the queue port, the task steps, and the in-process worker pool."""
