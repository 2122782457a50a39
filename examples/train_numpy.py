"""A real (small) training script for sagewatch or SageMaker: logistic regression in numpy.

Runs in SageMaker script mode (v2 `Estimator(entry_point="train_numpy.py")`, v3
`SourceCode(entry_script="train_numpy.py")`) and as a plain command. Hyperparameters arrive as
command-line arguments, the way the SageMaker training toolkit passes them (`--epochs 5`);
paths come from the SM_* variables the toolkit defines (reference §3.2), falling back to the
/opt/ml layout of the container contract (reference §3.1).

Each epoch prints one line that the MetricDefinitions in examples/README.md parse:
    epoch=3 train_loss=0.412345 train_accuracy=0.8425 validation_loss=0.420011 validation_accuracy=0.8350
The run is deterministic (fixed seed) and takes well under a second for the default sizes.

Data: CSV files (last column = 0/1 label) in the "training" channel, when there is one;
otherwise a synthetic, linearly separable-ish problem generated from the seed.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time

import numpy as np


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--learning-rate", "--learning_rate", "--lr", dest="learning_rate",
                        type=float, default=0.5)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    # For lifecycle tests (stop, max runtime, alarms): slow each epoch down, or fail on purpose.
    parser.add_argument("--sleep-per-epoch", "--sleep_per_epoch", dest="sleep_per_epoch",
                        type=float, default=0.0)
    parser.add_argument("--fail-at-epoch", "--fail_at_epoch", dest="fail_at_epoch",
                        type=int, default=0)
    # Extra toolkit/SDK arguments (or typos) must not kill the job: keep the unknown ones.
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        print(f"ignoring unknown arguments: {unknown}")
    return args


def load_channel(directory: str | None) -> np.ndarray | None:
    if not directory or not os.path.isdir(directory):
        return None
    files = sorted(glob.glob(os.path.join(directory, "**", "*.csv"), recursive=True))
    if not files:
        return None
    return np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])


def synthetic(samples: int, features: int, rng: np.random.Generator) -> np.ndarray:
    weights = rng.normal(size=features)
    x = rng.normal(size=(samples, features))
    noise = rng.normal(scale=0.5, size=samples)
    y = (x @ weights + noise > 0).astype(float)
    return np.column_stack([x, y])


def loss_and_accuracy(w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
    eps = 1e-12
    loss = float(-np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)))
    accuracy = float(np.mean((p > 0.5) == (y > 0.5)))
    return loss, accuracy


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    rng = np.random.default_rng(args.seed)
    model_dir = os.environ.get("SM_MODEL_DIR", "/opt/ml/model")
    training_dir = os.environ.get("SM_CHANNEL_TRAINING")

    data = load_channel(training_dir)
    source = f"channel training ({training_dir})" if data is not None else "synthetic data"
    if data is None:
        data = synthetic(args.samples, args.features, rng)
    rng.shuffle(data)
    split = int(len(data) * 0.8)
    train, validation = data[:split], data[split:]
    x_train, y_train = train[:, :-1], train[:, -1]
    x_val, y_val = validation[:, :-1], validation[:, -1]
    print(f"training on {len(train)} rows, validating on {len(validation)} rows from {source}; "
          f"epochs={args.epochs} learning_rate={args.learning_rate}", flush=True)

    w = np.zeros(x_train.shape[1])
    b = 0.0
    for epoch in range(1, args.epochs + 1):
        if epoch == args.fail_at_epoch:
            raise RuntimeError(f"failing at epoch {epoch} as asked (--fail-at-epoch)")
        # Full-batch gradient descent: one step per epoch keeps the output deterministic.
        p = 1.0 / (1.0 + np.exp(-(x_train @ w + b)))
        gradient = p - y_train
        w -= args.learning_rate * (x_train.T @ gradient) / len(y_train)
        b -= args.learning_rate * float(np.mean(gradient))
        train_loss, train_accuracy = loss_and_accuracy(w, b, x_train, y_train)
        val_loss, val_accuracy = loss_and_accuracy(w, b, x_val, y_val)
        print(f"epoch={epoch} train_loss={train_loss:.6f} train_accuracy={train_accuracy:.4f} "
              f"validation_loss={val_loss:.6f} validation_accuracy={val_accuracy:.4f}", flush=True)
        if args.sleep_per_epoch:
            time.sleep(args.sleep_per_epoch)

    os.makedirs(model_dir, exist_ok=True)
    np.savez(os.path.join(model_dir, "model.npz"), weights=w, bias=np.array([b]))
    with open(os.path.join(model_dir, "model.json"), "w") as f:
        json.dump({"weights": w.tolist(), "bias": b, "epochs": args.epochs,
                   "validation_accuracy": val_accuracy if args.epochs else None}, f)
    print(f"model written to {model_dir}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
