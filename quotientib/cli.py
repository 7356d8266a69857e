"""The ``quotientib`` command line.

``quotientib check`` runs the built-in verification suite (Proposition 1, coarea identity,
moment maps) and prints a table of residuals; it exits with status 1 if a check fails.
"""

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main"]


def _cmd_check(args):
    from quotientib.verify.suite import core_checks, format_table

    rows = core_checks(seed=args.seed)
    print(format_table(rows))
    failed = [r for r in rows if not r.passed]
    print(f"\n{len(rows) - len(failed)} passed, {len(failed)} failed")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps([r.to_dict() for r in rows], indent=2))
    return 1 if failed else 0


def build_parser():
    """The argument parser of the ``quotientib`` command."""
    parser = argparse.ArgumentParser(
        prog="quotientib",
        description="Geometry of symmetry-induced implicit bias: checks, catalog, experiments.")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="verify Proposition 1, the coarea identity and "
                                         "moment maps on built-in examples")
    check.add_argument("--seed", type=int, default=0)
    check.add_argument("--json", help="also write the rows as JSON to this file")
    check.set_defaults(func=_cmd_check)
    return parser


def main(argv=None):
    """Entry point of the ``quotientib`` console script."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
