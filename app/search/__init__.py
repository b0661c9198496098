"""The Search panel: a hyper-parameter search run in the training worker, trial by trial."""
