"""Settings: site.toml read into a typed schema, UI strings and dates, the theme's Jinja environment."""
