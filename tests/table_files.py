"""Writing the CSV tables that `nnmass rank` reads, for the tests."""
import csv


def write_csv(path, rows, header=("arch", "acc")):
    """A header row, then ``rows``; returns ``path``."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path
