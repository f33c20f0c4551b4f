"""Prints an .xlsx workbook as JSON, as a spreadsheet holds it:
{"sheets": {"Sheet": {"cells": [[cell, ...], ...], "freeze": "A2", "filter": "A1:P46"}},
 "order": ["Sheet", ...], "parts": ["xl/media/image1.png", "xl/charts/chart1.xml", ...]}
A cell is null or {"t": "n"|"s"|"f"|"b", "v": value, "fmt": number format}; a formula ("f")
has its text in "v" and the result the file holds (null if none) in "r".
Usage: python xlsx_cells.py FILE.xlsx"""
import json
import sys
import zipfile

import openpyxl


def cell(c, cached):
    v = c.value
    if v is None:
        return None
    if isinstance(v, bool):
        return {"t": "b", "v": v}
    if isinstance(v, (int, float)):
        return {"t": "n", "v": v, "fmt": c.number_format}
    if isinstance(v, str) and v.startswith("="):
        return {"t": "f", "v": v, "r": cached[c.coordinate].value, "fmt": c.number_format}
    return {"t": "s", "v": str(v)}


def main(path):
    formulas = openpyxl.load_workbook(path, data_only=False)
    results = openpyxl.load_workbook(path, data_only=True)
    sheets = {}
    for ws in formulas.worksheets:
        cached = results[ws.title]
        sheets[ws.title] = {
            "cells": [[cell(c, cached) for c in row] for row in ws.iter_rows()],
            "freeze": ws.freeze_panes,
            "filter": ws.auto_filter.ref,
        }
    with zipfile.ZipFile(path) as z:
        parts = [n for n in z.namelist() if n.startswith(("xl/media/", "xl/charts/"))]
    order = [ws.title for ws in formulas.worksheets]
    json.dump({"sheets": sheets, "order": order, "parts": parts}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
