"""Blob storage for results: obstore backends and signed URLs."""
