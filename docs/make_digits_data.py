"""Write nn/datasets/digits.csv.gz, the 8x8 digits that `nn.load_digits` reads, from scikit-learn's copy.

Run once, with scikit-learn installed: ``python docs/make_digits_data.py``. The file is a gzipped CSV
with a header line (p0 .. p63, label) and one row per image: 64 pixel counts 0..16, row by row,
then the digit. It is written reproducibly (no timestamp in the gzip header), so running this again
gives the same bytes. See nn/datasets/NOTICE.md for where the data comes from and its licences.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

from sklearn.datasets import load_digits

from autograd.files import atomic_write

OUTPUT = Path(__file__).resolve().parent.parent / "nn" / "datasets" / "digits.csv.gz"


def csv_text() -> str:
    bunch = load_digits()
    lines = [",".join([*(f"p{i}" for i in range(64)), "label"])]
    for row, label in zip(bunch.data, bunch.target):
        lines.append(",".join([*(str(int(pixel)) for pixel in row), str(int(label))]))
    return "\n".join(lines) + "\n"


def main() -> None:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0, filename="") as file:
        file.write(csv_text().encode("ascii"))
    print(f"wrote {atomic_write(OUTPUT, buffer.getvalue())} ({len(buffer.getvalue()):,} bytes)")


if __name__ == "__main__":
    main()
