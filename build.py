"""Run the site builder from a checkout: `python build.py build` equals `site-builder build`."""

from site_builder.cli import run

run()
