"""Render Mermaid text to SVG or PNG with mermaid-cli (mmdc) and Debian's chromium, offline.

Used by helpers.diagrams (SVG in MIME bundles, committed diagrams/*.svg) and by the lab's local
stand-in for mermaid.ink (helpers/lab/mermaid_ink.py). Results are cached by content hash under
.cache/diagrams, so a diagram already rendered once costs a file read, not a browser start.

Pure standard library: no IPython here, so the lab process can import it.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .config import PROJECT_ROOT
from .errors import LabError

TOOLS_DIR = PROJECT_ROOT / "tools" / "mermaid"
CACHE_DIR = PROJECT_ROOT / ".cache" / "diagrams"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
FORMATS = ("svg", "png")
RENDER_TIMEOUT = 120.0
PNG_SCALE = 2           # PNGs are drawn at twice their CSS size, so they stay sharp on dense screens


class RendererMissing(LabError):
    hint = ("install them with `apt-get install -y chromium fonts-liberation` and "
            "`cd tools/mermaid && PUPPETEER_SKIP_DOWNLOAD=1 npm ci`; JupyterLab still draws diagrams without them")


class RenderFailed(LabError):
    hint = "the Mermaid text does not parse or render: read the parser message above (its line numbers count from the first non-comment line)"


@dataclass(frozen=True)
class MermaidCLI:
    """One mmdc installation: the executable, the puppeteer config that points it at chromium."""

    mmdc: Path
    puppeteer_config: Path
    chromium: Path
    cache_dir: Path = CACHE_DIR

    @classmethod
    def find(cls, cache_dir: Path | None = None) -> "MermaidCLI":
        """The project's mmdc (tools/mermaid) and chromium, or RendererMissing naming what is absent."""
        mmdc = Path(os.environ.get("WORKSHOP_MMDC") or TOOLS_DIR / "node_modules" / ".bin" / "mmdc")
        chromium = Path(os.environ.get("PUPPETEER_EXECUTABLE_PATH") or DEFAULT_CHROMIUM)
        missing = []
        if not chromium.exists():
            missing.append(f"chromium ({chromium})")
        if not mmdc.exists():
            missing.append(f"mermaid-cli ({mmdc})")
        if not shutil.which("node"):
            missing.append("node (Node.js 20)")
        if missing:
            raise RendererMissing("cannot render Mermaid to SVG/PNG here: missing " + ", ".join(missing))
        return cls(mmdc=mmdc, puppeteer_config=TOOLS_DIR / "puppeteer-config.json", chromium=chromium,
                   cache_dir=cache_dir or CACHE_DIR)

    def _key(self, source: str, fmt: str) -> str:
        # The mmdc version is part of the key: an upgrade must not serve pictures of the old engine.
        version = self._version()
        return hashlib.sha256(f"{version}\0{fmt}\0{source}".encode()).hexdigest()[:32]

    def _version(self) -> str:
        package = self.mmdc.resolve().parent.parent / "package.json"
        try:
            return package.read_text()[:4000].split('"version"', 1)[1].split('"')[1]
        except (OSError, IndexError):
            return "unknown"

    def cached(self, source: str, fmt: str = "svg") -> Path | None:
        path = self.cache_dir / f"{self._key(source, fmt)}.{fmt}"
        return path if path.exists() else None

    def render(self, source: str, fmt: str = "svg") -> bytes:
        """Render one diagram; cached by content."""
        return self.render_many([source], fmt)[0]

    def render_many(self, sources: list[str], fmt: str = "svg") -> list[bytes]:
        """Render several diagrams with ONE browser start (mmdc's Markdown mode): about 0.6 s per diagram
        instead of about 2 s. Cached ones are not rendered again."""
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
        for source in sources:
            if "```" in source:
                raise RenderFailed("Mermaid text must not contain ``` (it would end the Markdown block)")
        todo = [s for s in dict.fromkeys(sources) if not self.cached(s, fmt)]
        if todo:
            self._run(todo, fmt)
        return [(self.cache_dir / f"{self._key(s, fmt)}.{fmt}").read_bytes() for s in sources]

    def _run(self, sources: list[str], fmt: str) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="mmdc-") as tmp:
            tmp_path = Path(tmp)
            if len(sources) == 1:
                src, out = tmp_path / "in.mmd", tmp_path / f"out.{fmt}"
                src.write_text(sources[0])
                outputs = [out]
            else:
                src, out = tmp_path / "in.md", tmp_path / "out.md"
                src.write_text("".join(f"```mermaid\n{s.rstrip()}\n```\n\n" for s in sources))
                outputs = [tmp_path / f"out-{i}.{fmt}" for i in range(1, len(sources) + 1)]
            cmd = [str(self.mmdc), "-p", str(self.puppeteer_config), "-i", str(src), "-o", str(out), "-q"]
            if len(sources) > 1:
                cmd += ["-e", fmt]
            if fmt == "png":
                cmd += ["-s", str(PNG_SCALE), "-b", "white"]
            env = dict(os.environ, PUPPETEER_SKIP_DOWNLOAD="1", PUPPETEER_EXECUTABLE_PATH=str(self.chromium))
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=RENDER_TIMEOUT, env=env,
                                      stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                raise RenderFailed(f"mmdc did not finish within {RENDER_TIMEOUT:.0f} s",
                                   hint="is chromium working? try `chromium --headless --no-sandbox --version`") from None
            if proc.returncode != 0 or not all(p.exists() for p in outputs):
                raise RenderFailed("mmdc failed: " + _mmdc_message(proc.stderr or proc.stdout))
            for source, produced in zip(sources, outputs):
                target = self.cache_dir / f"{self._key(source, fmt)}.{fmt}"
                # Write then rename, so a parallel reader never sees half a file.
                tmp_target = target.with_suffix(f".{os.getpid()}.tmp")
                tmp_target.write_bytes(produced.read_bytes())
                tmp_target.replace(target)


def _mmdc_message(output: str) -> str:
    """The parser's words without the JavaScript stack (frames, bundled chunk paths)."""
    lines = [line for line in output.strip().splitlines()
             if line.strip() and not line.lstrip().startswith("at ") and ".invalid/" not in line]
    return "\n".join(lines[:8]) or "(no message)"


def available() -> bool:
    try:
        MermaidCLI.find()
        return True
    except RendererMissing:
        return False


def main(argv: list[str] | None = None) -> int:
    """`python -m helpers.mmdc diagrams/*.mmd`: write each <name>.svg beside its <name>.mmd (one browser start)."""
    import argparse
    import time

    parser = argparse.ArgumentParser(prog="python -m helpers.mmdc", description=main.__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--format", choices=FORMATS, default="svg")
    args = parser.parse_args(argv)
    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        print(f"error: no such diagram: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        cli = MermaidCLI.find()
        # Committed pictures must not depend on a stale cache: render these fresh.
        cli = MermaidCLI(cli.mmdc, cli.puppeteer_config, cli.chromium, Path(tempfile.mkdtemp(prefix="mmdc-cache-")))
        started = time.monotonic()
        images = cli.render_many([f.read_text() for f in args.files], args.format)
    except (RendererMissing, RenderFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if "cli" in locals():
            shutil.rmtree(cli.cache_dir, ignore_errors=True)
    for path, image in zip(args.files, images):
        out = path.with_suffix(f".{args.format}")
        out.write_bytes(image)
        print(f"wrote {out} ({len(image)} bytes)")
    print(f"rendered {len(images)} diagram(s) in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
