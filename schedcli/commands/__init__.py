"""One module per command; each exposes a Click command named after the module."""
