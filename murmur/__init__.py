"""murmur core: keys, canonical form, signed messages, validation and the store. No web, no UI."""

__version__ = "0.1.0"
