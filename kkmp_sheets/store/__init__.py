"""The SQLite store: opening and migrations, daily history, workbook snapshots."""
