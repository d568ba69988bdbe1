"""Upstream providers: the adapter protocol, the registry, the sandbox and vendor adapters."""
