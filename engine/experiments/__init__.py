"""Experiments: every training run recorded beside its project, compared, restored and searched.

No Qt here. `RunHistory` is the folder of one project's runs (`NAME.runs/`, see
docs/runs.md for the format and why a folder); `RunRecorder` is the callback
that writes a run into it as it trains; `compare` names what differs between
two runs (settings and layers); `search` runs Optuna studies whose trials are
ordinary runs; `lr_finder` is the learning-rate range test. The CLI
(`netwright runs`, `netwright search`, `netwright train --find-lr`) and the
window's Runs and Search panels are thin layers over these.
"""

from __future__ import annotations
