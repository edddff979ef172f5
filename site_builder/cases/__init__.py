"""Case files -> validated, immutable Case objects (front matter, sections, Markdown, warnings)."""
