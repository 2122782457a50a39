"""A GPU training-like job: keeps the instance's GPUs busy for a few seconds with PyTorch.

Made to check sagewatch's GPU telemetry (GPUUtilization / GPUMemoryUtilization, reference §2.1):
it holds --memory-gib of GPU memory on every visible device and runs back-to-back matrix
multiplications for --seconds, printing one metrics line per second:
    step=3 elapsed=3.0 loss=0.123456 tflops=41.2 gpu_memory_gib=2.00 devices=1
(`loss` is the mean of a normalised product, a stand-in that MetricDefinitions can parse.)

Which GPUs it sees is decided by CUDA_VISIBLE_DEVICES, set per instance by sagewatch from its
allocation. Needs PyTorch with CUDA; without it the script says so and exits with code 2
(--allow-cpu runs the same loop on the CPU, to try the script on a machine without a GPU).
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--size", type=int, default=4096, help="matrix side")
    parser.add_argument("--memory-gib", "--memory_gib", dest="memory_gib", type=float, default=2.0)
    parser.add_argument("--allow-cpu", "--allow_cpu", dest="allow_cpu", action="store_true")
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        print(f"ignoring unknown arguments: {unknown}")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed in this Python; gpu_torch.py needs it", file=sys.stderr)
        return 2
    print(f"torch {torch.__version__} CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r}",
          flush=True)
    if torch.cuda.is_available():
        devices = [torch.device("cuda", i) for i in range(torch.cuda.device_count())]
        for device in devices:
            print(f"device {device}: {torch.cuda.get_device_name(device)}", flush=True)
    elif args.allow_cpu:
        devices = [torch.device("cpu")]
        args.size = min(args.size, 512)
        args.memory_gib = min(args.memory_gib, 0.1)
    else:
        print("no CUDA device visible (is this instance allocated a GPU?)", file=sys.stderr)
        return 2

    generator = torch.Generator().manual_seed(0)
    state = []
    for device in devices:
        # Ballast so that GPUMemoryUtilization shows what the job holds, not just the matrices.
        ballast = torch.empty(int(args.memory_gib * (1 << 30)) // 4, dtype=torch.float32, device=device)
        ballast.fill_(1.0)
        a = torch.randn(args.size, args.size, generator=generator).to(device)
        b = torch.randn(args.size, args.size, generator=generator).to(device)
        state.append((device, ballast, a, b))

    started = time.monotonic()
    step = 0
    flops = 0.0
    last_report = started
    while True:
        now = time.monotonic()
        if now - started >= args.seconds:
            break
        loss = 0.0
        for device, _ballast, a, b in state:
            c = a @ b
            loss += float((c / args.size).mean().abs().item())  # .item() synchronises the device
            flops += 2.0 * args.size ** 3
        if now - last_report >= 1.0:
            step += 1
            elapsed = now - started
            memory = sum(torch.cuda.memory_allocated(d) for d, *_ in state if d.type == "cuda")
            print(f"step={step} elapsed={elapsed:.1f} loss={loss / len(state):.6f} "
                  f"tflops={flops / (now - last_report) / 1e12:.1f} "
                  f"gpu_memory_gib={memory / (1 << 30):.2f} devices={len(state)}", flush=True)
            flops = 0.0
            last_report = now
    print(f"done after {time.monotonic() - started:.1f} s", flush=True)
    model_dir = os.environ.get("SM_MODEL_DIR")
    if model_dir:
        os.makedirs(model_dir, exist_ok=True)
        with open(os.path.join(model_dir, "gpu_run.txt"), "w") as f:
            f.write(f"devices={len(state)} size={args.size}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
