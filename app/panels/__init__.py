"""Docked panels bound to parts of the project: training settings and data."""
