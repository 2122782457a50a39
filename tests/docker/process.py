#!/usr/bin/env python3
"""A processing container for the docker runner's tests (the image's ENTRYPOINT).

Processing runs the image's ENTRYPOINT/CMD with no argument appended (reference §3.3). It echoes
its arguments, copies every file under /opt/ml/processing/input/* to /opt/ml/processing/output/,
upper-cased, and writes /opt/ml/output/message (-> ExitMessage). `--fail` exits 2.
"""
import json
import os
import sys


def main() -> int:
    print(f"argv={sys.argv[1:]}", flush=True)
    with open("/opt/ml/config/processingjobconfig.json") as f:
        config = json.load(f)
    print(f"job={config.get('ProcessingJobName')}", flush=True)
    copied = 0
    for root, _dirs, files in os.walk("/opt/ml/processing/input"):
        for name in files:
            with open(os.path.join(root, name)) as f:
                text = f.read()
            os.makedirs("/opt/ml/processing/output", exist_ok=True)
            with open(os.path.join("/opt/ml/processing/output", name), "w") as f:
                f.write(text.upper())
            copied += 1
    print(f"copied {copied} files", flush=True)
    os.makedirs("/opt/ml/output", exist_ok=True)
    with open("/opt/ml/output/message", "w") as f:
        f.write(f"processed {copied} files")
    return 2 if "--fail" in sys.argv else 0


if __name__ == "__main__":
    sys.exit(main())
