"""台帐: Excel ledgers of matters in and out.

`columns` (the columns, messages, result, template), `reading` (the worksheet, row by row),
`validation` (a row checked cell by cell), `importing` (`import_ledger`: check and write in
two processes, resumable), `exporting` (`export_cases`, `export_rows`), `views` (the import
page). The fast insert path itself stays with the matter (`xinfang/cases/bulk.py`).
"""
