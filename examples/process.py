"""A real (small) processing script for sagewatch or SageMaker Processing.

Reads every CSV file under the input directory (default /opt/ml/processing/input/data, the
ProcessingInput LocalPath convention of the processing contract, reference §3.3), standardises
each numeric column (z-scores), and writes:
  <output>/standardized/<same relative path>.csv   the transformed rows
  <output>/statistics.json                         per-column count / mean / std
and a one-line summary to /opt/ml/output/message, which SageMaker reports as the job's
ExitMessage (reference §3.3, byoc-metadata). With no input files it fails (exit code 1) with a
message saying so: an empty input is a user error, not an empty success.

Paths: --input-dir / --output-dir, else under $SAGEMAKER_BASE_DIR (a sagewatch instance without a
private /opt/ml) or /opt/ml. Uses only the standard library, so any Python runs it (the SDK's
ScriptProcessor runs `python3 /opt/ml/processing/input/code/process.py`).
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import math
import os
import sys

BASE_DIR = os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input-dir", default=os.path.join(BASE_DIR, "processing/input/data"))
    parser.add_argument("--output-dir", default=os.path.join(BASE_DIR, "processing/output"))
    parser.add_argument("--message-file", default=os.path.join(BASE_DIR, "output/message"))
    return parser.parse_args(argv)


def read_rows(path: str) -> list[list[float]]:
    with open(path, newline="") as f:
        return [[float(cell) for cell in row] for row in csv.reader(f) if row]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    files = sorted(glob.glob(os.path.join(args.input_dir, "**", "*.csv"), recursive=True))
    print(f"processing {len(files)} file(s) from {args.input_dir}", flush=True)
    if not files:
        print(f"no CSV input under {args.input_dir}", file=sys.stderr, flush=True)
        write_message(args.message_file, f"no CSV input under {args.input_dir}")
        return 1

    tables = {path: read_rows(path) for path in files}
    rows = [row for table in tables.values() for row in table]
    columns = len(rows[0])
    means = [sum(row[c] for row in rows) / len(rows) for c in range(columns)]
    stds = [math.sqrt(sum((row[c] - means[c]) ** 2 for row in rows) / len(rows)) or 1.0
            for c in range(columns)]
    for c in range(columns):
        print(f"column={c} count={len(rows)} mean={means[c]:.6f} std={stds[c]:.6f}", flush=True)

    for path, table in tables.items():
        relative = os.path.relpath(path, args.input_dir)
        target = os.path.join(args.output_dir, "standardized", relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", newline="") as f:
            writer = csv.writer(f)
            for row in table:
                writer.writerow([f"{(row[c] - means[c]) / stds[c]:.6f}" for c in range(columns)])
        print(f"wrote {target}", flush=True)

    os.makedirs(args.output_dir, exist_ok=True)
    with open(os.path.join(args.output_dir, "statistics.json"), "w") as f:
        json.dump({"rows": len(rows), "files": len(files),
                   "columns": [{"mean": m, "std": s} for m, s in zip(means, stds)]}, f, indent=1)
    summary = f"standardized {len(rows)} rows x {columns} columns from {len(files)} file(s)"
    write_message(args.message_file, summary)
    print(summary, flush=True)
    return 0


def write_message(path: str, text: str) -> None:
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as error:  # outside a job /opt/ml may not be writable: the message is optional
        print(f"could not write {path}: {error}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
