"""mediagate: a self-hosted gateway for AI generation: text, images, video and music."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mediagate")  # the one place it is set: pyproject.toml
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0.0.0+source"
