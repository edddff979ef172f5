"""`python -m site_builder` runs the command line."""

from site_builder.cli import run

run()
