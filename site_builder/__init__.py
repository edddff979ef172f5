"""Turn resolved customer complaints into a website, an email digest and printable leaflets."""

__version__ = "0.1.0"
