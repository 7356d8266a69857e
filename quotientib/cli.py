"""The ``quotientib`` command line.

* ``quotientib check``: the verification suite of the geometry core (Proposition 1, coarea
  identity, moment maps); exit status 1 if a check fails.
* ``quotientib catalog [--metric euclidean|diagonal|spd]``: the catalog table, computed.
* ``quotientib validate [--full] [--seeds 0,1] [--out DIR]``: gauge invariance and the
  theory-versus-simulation validations.
* ``quotientib list``: the paper's experiments.
* ``quotientib reproduce NAME... | --all [--quick | --full] [--seeds K] [--out DIR]``.
* ``quotientib report [--out DIR]``: the main job; everything above in one Markdown report.
"""

import argparse
import json
import sys
import time
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


def _cmd_catalog(args):
    from quotientib.catalog.table import catalog_markdown, catalog_table

    rows = catalog_table(metric=args.metric)
    print(catalog_markdown(metric=args.metric, rows=rows))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(rows, indent=2, default=str))
    return 0


def _cmd_validate(args):
    from quotientib.report import _collect_verdicts
    from quotientib.verify.validations import run_all

    seeds = tuple(int(x) for x in args.seeds.split(","))
    results = run_all(quick=not args.full, full=args.full, out=args.out, seeds=seeds,
                      progress=None)  # bars only on a terminal
    for seed, per_seed in results.items():
        for name, res in per_seed.items():
            for path, entry in _collect_verdicts(res):
                print(f"[seed {seed}] {name}/{'/'.join(path)}: {entry['verdict']}")
    print(f"\nwrote {args.out}/")
    return 0


def _cmd_list(args):
    from quotientib.experiments import list_experiments

    for name, description in list_experiments():
        print(f"{name:24s} {description}")
    return 0


def _cmd_reproduce(args):
    from quotientib.experiments import reproduce

    if not args.all and not args.names:
        raise SystemExit("quotientib reproduce: name experiments or pass --all "
                         "(see `quotientib list`).")
    names = "all" if args.all else args.names
    start = time.perf_counter()
    results = reproduce(names, mode=args.mode, seeds=args.seeds, out=args.out)
    failed = 0
    for name, res in results.items():
        for v in res.get("verdicts", {}).values():
            print(f"{name:24s} {v['verdict']:>14s}  {v['claim']}  [{v['criterion']}]")
        failed += res.get("status") != "completed"
    print(f"\nwrote {args.out}/ ({len(results)} experiments, {args.mode} mode, "
          f"{time.perf_counter() - start:.0f} s)")
    return 1 if failed else 0


def _cmd_report(args):
    from quotientib.report import build_report

    sections = args.sections.split(",") if args.sections else None
    summary = build_report(args.out, seeds=args.seeds, sections=sections)
    print(f"\nwrote {args.out}/report.md; sections: {summary['sections']}; verdicts: "
          f"{summary['counts']}")
    return 1 if summary["errors"] else 0


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

    catalog = sub.add_parser("catalog", help="print the catalog table, computed by balancing "
                                             "each entry")
    catalog.add_argument("--metric", choices=["euclidean", "diagonal", "spd"],
                         default="euclidean")
    catalog.add_argument("--json", help="also write the rows as JSON to this file")
    catalog.set_defaults(func=_cmd_catalog)

    val = sub.add_parser("validate", help="gauge invariance and theory-versus-simulation "
                                          "validations (radial law, uv law, balancing, metric)")
    val.add_argument("--full", action="store_true", help="ledger sizes (about 8 minutes)")
    val.add_argument("--seeds", default="0", help="comma-separated seeds")
    val.add_argument("--out", default="validations")
    val.set_defaults(func=_cmd_validate)

    lister = sub.add_parser("list", help="list the paper's experiments")
    lister.set_defaults(func=_cmd_list)

    rep = sub.add_parser("reproduce", help="run experiments of the paper")
    rep.add_argument("names", nargs="*")
    rep.add_argument("--all", action="store_true", help="every experiment")
    mode = rep.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="short runs that still show the effect (default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="the paper's iteration counts")
    rep.set_defaults(mode="quick")
    rep.add_argument("--seeds", type=int, default=3)
    rep.add_argument("--out", default="results")
    rep.set_defaults(func=_cmd_reproduce)

    report = sub.add_parser("report", help="the main job: checks, catalog, validations and "
                                           "quick experiments in one Markdown report")
    report.add_argument("--out", default="report")
    report.add_argument("--seeds", type=int, default=3)
    report.add_argument("--sections", help="comma-separated subset of "
                                           "checks,catalog,validations,experiments")
    report.set_defaults(func=_cmd_report)
    return parser


def main(argv=None):
    """Entry point of the ``quotientib`` console script."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
