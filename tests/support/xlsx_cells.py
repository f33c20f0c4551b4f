"""Prints every cell of an .xlsx workbook as JSON, as a spreadsheet holds it:
{"Sheet": [[{"t": "n"|"s"|"f"|"b", "v": value}, null, ...], ...], ...}.
"n" is a number, "s" text, "f" a formula (its text, e.g. "=SUM(B2:B9)"), "b" a boolean.
Usage: python xlsx_cells.py FILE.xlsx"""
import json
import sys

import openpyxl


def cell(c):
    v = c.value
    if v is None:
        return None
    if isinstance(v, bool):
        return {"t": "b", "v": v}
    if isinstance(v, (int, float)):
        return {"t": "n", "v": v, "fmt": c.number_format}
    if isinstance(v, str) and v.startswith("="):
        return {"t": "f", "v": v, "fmt": c.number_format}
    return {"t": "s", "v": str(v)}


def main(path):
    wb = openpyxl.load_workbook(path, data_only=False)
    out = {}
    for ws in wb.worksheets:
        out[ws.title] = [[cell(c) for c in row] for row in ws.iter_rows()]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
