"""Saves a copy of an .xlsx workbook with some cells changed, as a reviewer would change a
line; openpyxl keeps the formulas and drops their stored results, so the spreadsheet that
opens the copy calculates every one of them again.
Usage: python xlsx_edit.py IN.xlsx OUT.xlsx [Sheet!A1=number ...]"""
import sys

import openpyxl


def main(src, dst, edits):
    wb = openpyxl.load_workbook(src)
    for edit in edits:
        ref, value = edit.split("=", 1)
        sheet, at = ref.split("!")
        wb[sheet][at] = float(value)
    wb.save(dst)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
