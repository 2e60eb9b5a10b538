"""`python -m benchmarks run [NAME ...] [--quick]` (`--quick` smoke-tests each in under a minute; it keeps
only how long each took)."""

from __future__ import annotations

import argparse

from benchmarks import harness


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run benchmarks (all when none is named)")
    run.add_argument("names", nargs="*", metavar="NAME", help=", ".join(harness.BENCHMARKS))
    run.add_argument("--quick", action="store_true", help="small sizes: results printed, durations stored")
    commands.add_parser("report", help="rebuild RESULTS.md from the stored results")
    arguments = parser.parse_args()
    if arguments.command == "run":
        harness.run(arguments.names, arguments.quick)
    else:
        harness.write_results_md()


if __name__ == "__main__":
    main()
