"""The built-in sandbox provider: real media made offline, for test-mode keys."""
