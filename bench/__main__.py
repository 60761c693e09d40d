"""``python -m bench --lines 1m [--partners N] [--repeats 3]``: see bench/README.md."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from bench.generate import scale_of
from bench.report import markdown, stages_markdown
from bench.run import run_benchmark, run_stages
from channelops.settings import PROJECT_DIR


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--lines", default="1m", help="order lines: 10k .. 100m")
    parser.add_argument("--partners", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--work", type=Path, default=PROJECT_DIR / "var" / "bench")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "bench" / "results")
    parser.add_argument(
        "--stages",
        default=None,
        help="only these stages, comma-separated (e.g. pull), without the ratios",
    )
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    scale = scale_of(options.lines, options.partners)
    if options.stages:
        stages = [s.strip() for s in options.stages.split(",")]
        only = run_stages(scale, options.work, options.out, stages, options.repeats)
        print(stages_markdown(only))
        return
    summary = run_benchmark(scale, options.work, options.out, options.repeats)
    print(markdown(summary))


if __name__ == "__main__":
    main()
