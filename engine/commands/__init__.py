"""One module per `netwright` sub-command (see engine.cli)."""
