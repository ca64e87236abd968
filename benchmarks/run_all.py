"""Run every benchmark in this folder, one after the other, each printing its own side-by-side table."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["kube_roundtrip.py", "kube_watch.py", "kube_apply.py", "lab_startup.py", "akeyless_throughput.py", "eso_sync.py",
         "workshop_concurrency.py"]


def main() -> int:
    failed = []
    for name in ORDER:
        script = HERE / name
        if not script.exists():
            continue
        print(f"\n=== {name} ===", flush=True)
        if subprocess.call([sys.executable, str(script)], cwd=HERE.parent) != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
