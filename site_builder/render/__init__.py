"""Pure renderers: each turns the case model and settings into files, and writes nothing."""
