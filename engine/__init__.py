"""Netwright's engine: everything a headless user needs, and no Qt."""

__version__ = "0.1.0"
