"""The node-graph editor: scene, view, items, palette, inspector, undo commands."""
