#!/usr/bin/env python3
"""Print the rows of `vaelab check --csv FILE` as the Markdown table docs/derivation.md shows ("Measured").

    dotnet run --project src/VaeLab.Cli -c Release -- check --csv derivation.csv
    python3 environment/derivation_table.py derivation.csv
"""
import csv, sys


def short(value):
    """Numbers as the table shows them: 10 significant digits, or 3 for small differences."""
    try:
        number = float(value)
    except ValueError:
        return value
    if number != 0 and abs(number) < 1e-3:
        return f"{number:.3g}"
    return f"{number:.10g}"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    print("| row | check | step | left | right | \\|difference\\| | tolerance | pass |")
    print("|---|---|---|---:|---:|---:|---:|---|")
    for row in rows:
        cells = [row["row"], row["check"], row["step"], short(row["left"]), short(row["right"]), short(row["|difference|"]), short(row["tolerance"]), row["pass"]]
        print("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")


if __name__ == "__main__":
    main()
