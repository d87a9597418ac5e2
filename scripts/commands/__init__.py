"""The `commons` sub-commands, one module per family; scripts/cli.py assembles them into one command."""
