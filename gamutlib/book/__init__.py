"""Support for building the book (a Sphinx extension that serves its scripts offline)."""
