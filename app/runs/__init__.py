"""The Runs panel: the project's recorded runs in a table, their curves overlaid, two compared
(settings and layers, the changes marked on the canvas), one restored as a single undo step."""
