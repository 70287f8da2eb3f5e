"""Tables as downloads: CSV that Excel opens in UTF-8, and XLSX.

Both are written by ``console.spreadsheets``, which neutralises formula cells."""

from .spreadsheets import to_csv, to_xlsx  # noqa: F401  (the callers' names)
