"""The reproducible-book backbone: notebooks -> papermill -> record -> book.

``layout`` finds the paper series under notebooks/, ``profiles`` says what a
run may afford, ``execute`` runs one notebook through papermill (temporary
file, moved into place only on success), ``tables`` writes and reads the JSON
tables that make up the record, ``compare`` checks a run's tables against the
committed record, and ``runner`` drives a whole ``gamut reproduce``.
"""

from gamutlib.reproduce.tables import read_table, show_table, write_table

__all__ = ["read_table", "show_table", "write_table"]
