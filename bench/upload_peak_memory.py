"""Peak memory and time of reading the worst file each loader still accepts at the default limits.

For each format a file is built at the limits of :class:`unsup_core.settings.FileLimits` (a
fraction of them with ``--scale``), then read by
``read_file`` in a fresh Python process. Reported: the process's peak resident memory (VmHWM),
its resident memory just before the read (Python, pandas, pyarrow, openpyxl and Pillow imported),
and the seconds the read took (wall clock, and CPU time, which a busy machine inflates less).

    python bench/upload_peak_memory.py [--scale 0.1] [--only csv,npy]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from unsup_core.settings import FileLimits

LIMITS = FileLimits()
COLUMNS = 10


def _vm(field: str) -> float:
    """A memory field of /proc/self/status in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def child(path: str) -> None:
    import openpyxl  # noqa: F401
    import PIL.Image  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from unsup_core.datasets.files import read_file

    before = _vm("VmRSS")
    start, cpu_start = time.perf_counter(), time.process_time()
    loaded = read_file(path)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    shape = loaded.images.shape if loaded.images is not None else loaded.table.shape
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "before_mb": before, "peak_mb": _vm("VmHWM"),
                      "shape": list(shape)}))


# -- the files -----------------------------------------------------------------------------------
def _table(rows: int) -> pd.DataFrame:
    values = np.random.default_rng(0).random((rows, COLUMNS)).round(6)
    return pd.DataFrame(values, columns=[f"x{i}" for i in range(COLUMNS)])


def build_csv(folder: Path, scale: float) -> tuple[Path, str]:
    rows = int(LIMITS.max_table_cells * scale) // COLUMNS
    block = _table(100_000).to_csv(index=False, header=False)
    path = folder / "table.csv"
    with open(path, "w") as handle:
        handle.write(",".join(f"x{i}" for i in range(COLUMNS)) + "\n")
        for start in range(0, rows, 100_000):
            handle.write(block if rows - start >= 100_000 else "".join(block.splitlines(True)[:rows - start]))
    return path, f"{rows:,} rows x {COLUMNS} float columns (table cell limit)"


def build_excel(folder: Path, scale: float) -> tuple[Path, str]:
    from openpyxl import Workbook

    rows = int(LIMITS.max_excel_cells * scale) // COLUMNS
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("data")
    sheet.append([f"x{i}" for i in range(COLUMNS)])
    for row in _table(rows).itertuples(index=False):
        sheet.append(list(row))
    path = folder / "table.xlsx"
    workbook.save(path)
    return path, f"{rows:,} rows x {COLUMNS} floats (Excel cell limit)"


def build_parquet(folder: Path, scale: float) -> tuple[Path, str]:
    rows = int(LIMITS.max_table_cells * scale) // COLUMNS
    path = folder / "table.parquet"
    _table(rows).to_parquet(path, index=False)
    return path, f"{rows:,} rows x {COLUMNS} float64 columns (table cell limit)"


def build_npy(folder: Path, scale: float) -> tuple[Path, str]:
    side = 64
    count = int(min(LIMITS.max_array_elements, LIMITS.max_array_mb * 1024**2 / 4) * scale) // (side * side)
    images = np.random.default_rng(0).random((count, side, side), dtype=np.float32) * 2  # [0, 2): rescaled
    path = folder / "images.npy"
    np.save(path, images)
    return path, f"{count:,} float32 images of {side} x {side} (array element limit)"


def build_npz(folder: Path, scale: float) -> tuple[Path, str]:
    rows = int(LIMITS.max_table_cells * scale) // COLUMNS
    path = folder / "table.npz"
    np.savez_compressed(path, X=np.zeros((rows, COLUMNS - 1)), y=np.arange(rows) % 3)
    return path, f"{rows:,} x {COLUMNS - 1} float64 zeros + a label column, compressed (table cell limit)"


def build_image_zip(folder: Path, scale: float) -> tuple[Path, str]:
    from PIL import Image

    side = int(LIMITS.max_image_pixels ** 0.5)
    count = max(1, int(LIMITS.max_total_image_pixels * scale) // (side * side))
    rows, columns = np.indices((side, side), dtype=np.uint16)
    pattern = np.stack([rows % 256, columns % 256, (rows + columns) % 256], axis=2).astype(np.uint8)
    buffer_path = folder / "image.png"
    Image.fromarray(pattern).save(buffer_path, compress_level=1)
    path = folder / "images.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for index in range(count):
            archive.write(buffer_path, f"images/{index}.png")
    return path, f"{count} PNGs of {side} x {side} (per-image and total pixel limits)"


BUILDERS = {"csv": build_csv, "xlsx": build_excel, "parquet": build_parquet, "npy": build_npy,
            "npz": build_npz, "image zip": build_image_zip}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="share of the limits to build (default 1)")
    parser.add_argument("--only", default=",".join(BUILDERS), help="comma-separated formats")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    print(f"{'format':<10} {'file MB':>8} {'build s':>8} {'read s':>7} {'CPU s':>6} {'before MB':>10} {'peak MB':>8}"
          "  file")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.only.split(","):
            start = time.perf_counter()
            path, description = BUILDERS[name](Path(folder), args.scale)
            built = time.perf_counter() - start
            result = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True, text=True)
            if result.returncode:
                print(f"{name:<10} failed: {result.stderr.strip().splitlines()[-1]}")
                continue
            read = json.loads(result.stdout)
            print(f"{name:<10} {path.stat().st_size / 1024**2:>8,.0f} {built:>8.1f} {read['seconds']:>7.1f} "
                  f"{read['cpu_seconds']:>6.1f} "
                  f"{read['before_mb']:>10,.0f} {read['peak_mb']:>8,.0f}  {description}", flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
