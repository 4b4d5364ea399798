"""`python -m threatmodel` runs the CLI."""

from threatmodel.cli import main

main()
