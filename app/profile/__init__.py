"""Analyze > Profile: each layer's measured time, on its node and in a sorted table."""
