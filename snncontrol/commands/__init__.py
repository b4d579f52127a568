"""Sub-commands of the `snncontrol` CLI (each: `add_arguments(parser)` and `run(args) -> int`)."""
