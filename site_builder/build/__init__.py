"""The build machinery: pipeline, shortcut plan, writer and swap, caches, parallelism."""
