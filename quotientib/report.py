"""``quotientib report``: the main job, one Markdown report of everything that can be checked.

Sections, each computed when the report is built:

1. the verification suite of the geometry core (Proposition 1, coarea identity, moment maps);
2. the catalog table (argmin of log det H against the paper's printed conditions);
3. gauge invariance and the theory-versus-simulation validations (quick mode);
4. the paper's experiments in quick mode (several seeds, figures, JSON).

A section that raises is reported as an error with its message, the others still run, and the
command exits non-zero: a report never hides a failure.
"""

import json
import time
import traceback
from pathlib import Path

__all__ = ["build_report", "verdict_class"]


def _section_checks(out):
    from quotientib.verify.suite import core_checks, format_table

    rows = core_checks()
    verdicts = [{"claim": f"{r.check} [{r.example}]", "verdict": "holds" if r.passed else
                 "does not hold", "criterion": r.detail if r.detail.startswith("passes when")
                 else f"residual <= {r.tolerance:g}", "source": "quotientib check"}
                for r in rows]
    text = format_table(rows)
    return text, [r.to_dict() for r in rows], verdicts


def _section_catalog(out):
    from quotientib.catalog.table import catalog_markdown, catalog_table

    rows = catalog_table()
    verdicts = []
    for row in rows:
        if not row.get("paper_condition") or row.get("condition_agrees") is None:
            continue
        verdicts.append({"claim": f"{row['name']}: the paper's condition "
                                  f"'{row['paper_condition']}' holds at the argmin of log det H",
                         "verdict": "holds" if row["condition_agrees"] else "differs",
                         "criterion": "paper-condition residual at the numerically balanced "
                                      "point <= 1e-6",
                         "source": "quotientib catalog"})
        if row.get("value_agrees") is not None:
            verdicts.append({"claim": f"{row['name']}: the paper's value of min log det H over "
                                      "the orbit",
                             "verdict": "holds" if row["value_agrees"] else "differs",
                             "criterion": "|paper value - numerical minimum| <= 1e-6 at random "
                                          f"points (gap {row['paper_value_gap']})",
                             "source": "quotientib catalog"})
    return catalog_markdown(rows=rows), rows, verdicts


def _collect_verdicts(obj, path=()):
    """Every dict inside ``obj`` that carries a ``verdict``, with where it was found."""
    found = []
    if isinstance(obj, dict):
        if "verdict" in obj and isinstance(obj["verdict"], str):
            found.append((path, obj))
        elif "verdict" in obj and isinstance(obj["verdict"], (list, tuple)):
            for i, text in enumerate(obj["verdict"]):
                found.append((path + (str(i),), {**obj, "verdict": str(text)}))
        for key, value in obj.items():
            if key != "verdict":
                found.extend(_collect_verdicts(value, path + (str(key),)))
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            found.extend(_collect_verdicts(value, path + (str(i),)))
    return found


def _section_validations(out):
    from quotientib.verify.validations import run_all

    folder = Path(out) / "validations"
    results = run_all(quick=True, out=str(folder), seeds=(0,))
    lines, verdicts = [], []
    for seed, per_seed in results.items():
        for name, res in per_seed.items():
            lines.append(f"### {name} (seed {seed}, quick mode)\n")
            if res.get("claim"):
                lines.append(f"*Claim:* {res['claim']}\n")
            lines.append("| where | criterion | verdict |\n|---|---|---|")
            for path, entry in _collect_verdicts(res):
                where = "/".join(path) or name
                criterion = entry.get("criterion", res.get("criterion", ""))
                lines.append(f"| {where} | {criterion} | {entry['verdict']} |")
                verdicts.append({"claim": entry.get("claim", res.get("claim", name)),
                                 "criterion": criterion, "verdict": entry["verdict"],
                                 "source": f"validation {name}/{where}"})
            lines.append("")
    for png in sorted(folder.glob("*.png")):
        lines.append(f"![{png.stem}](validations/{png.name})\n")
    lines.append("Quick mode uses small ensembles; the ledger numbers come from "
                 "`quotientib validate --full`.")
    return "\n".join(lines), results, verdicts


def _section_experiments(out, seeds):
    from quotientib.experiments import reproduce

    results = reproduce("all", mode="quick", seeds=seeds, out=str(Path(out) / "experiments"))
    lines, verdicts = [], []
    for name, res in results.items():
        lines.append(f"### {name}\n\n{res.get('description', '')}\n")
        lines.append(f"Wall time {res.get('wall_time', float('nan')):.1f} s, seeds "
                     f"{res.get('seeds')}.\n")
        lines.append("| claim | criterion | verdict |\n|---|---|---|")
        for v in res.get("verdicts", {}).values():
            lines.append(f"| {v['claim']} | {v['criterion']} | **{v['verdict']}** |")
            verdicts.append({**v, "source": f"experiment {name}"})
        lines.append("")
        for fig in res.get("figures", []):
            rel = Path("experiments") / name / Path(fig).name
            lines.append(f"![{name}]({rel.as_posix()})\n")
    return "\n".join(lines), results, verdicts


def verdict_class(text):
    """Sort a verdict into holds / does not hold / differs / measured, for the totals.

    Parameters
    ----------
    text : str

    Returns
    -------
    kind : str
    """
    low = text.lower()
    if low.startswith("holds"):
        return "holds"
    if "does not hold" in low or low.startswith("fails") or "not consistent" in low:
        return "does not hold"
    if low.startswith("differs"):
        return "differs"
    return "measured (see text)"


def build_report(out="report", *, seeds=3, sections=None, progress=True):
    """Build the report: ``out/report.md``, ``out/report.json`` and figures.

    Parameters
    ----------
    out : str
        Output folder.
    seeds : int
        Seeds for the quick experiments.
    sections : sequence of str, optional
        Subset of ``("checks", "catalog", "validations", "experiments")``.
    progress : bool

    Returns
    -------
    summary : dict
        ``sections`` (name -> status), ``verdicts`` (all verdicts), ``errors``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    chosen = sections or ("checks", "catalog", "validations", "experiments")
    builders = {
        "checks": ("Verification of the geometry core", lambda: _section_checks(out)),
        "catalog": ("Catalog of symmetries", lambda: _section_catalog(out)),
        "validations": ("Gauge invariance and theory versus simulation",
                        lambda: _section_validations(out)),
        "experiments": ("The paper's experiments (quick mode)",
                        lambda: _section_experiments(out, seeds)),
    }
    unknown = set(chosen) - set(builders)
    if unknown:
        raise ValueError(f"Unknown report sections {sorted(unknown)}; known: {sorted(builders)}.")
    md = ["# quotientib report", "",
          f"Built {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Every number below was "
          "computed while building this report.", ""]
    data, verdicts, errors, status = {}, [], {}, {}
    for key in chosen:
        title, build = builders[key]
        start = time.perf_counter()
        if progress:
            print(f"[report] {title} ...", flush=True)
        try:
            text, payload, section_verdicts = build()
            status[key] = "ok"
            data[key] = payload
            verdicts.extend(section_verdicts)
            md += [f"## {title}", "", text, ""]
        except Exception as exc:  # noqa: BLE001  (reported, never hidden)
            status[key] = "error"
            errors[key] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            md += [f"## {title}", "", f"**ERROR**: `{errors[key]}`", ""]
            if progress:
                traceback.print_exc()
        elapsed = time.perf_counter() - start
        md.append(f"_Section time: {elapsed:.1f} s._\n")
    md += ["## Verdict per claim", "", "| claim | source | criterion | verdict |",
           "|---|---|---|---|"]
    for v in verdicts:
        md.append(f"| {v['claim']} | {v.get('source', '')} | {v.get('criterion', '')} | "
                  f"**{v['verdict']}** |")
    counts = {}
    for v in verdicts:
        kind = verdict_class(v["verdict"])
        counts[kind] = counts.get(kind, 0) + 1
    md += ["", "Totals: " + ", ".join(f"{k}: {n}" for k, n in sorted(counts.items())), ""]
    (out / "report.md").write_text("\n".join(md))
    summary = {"sections": status, "verdicts": verdicts, "errors": errors, "counts": counts}
    (out / "report.json").write_text(json.dumps({"summary": summary, "data": data}, indent=2,
                                                default=_jsonable))
    return summary


def _jsonable(obj):
    try:
        import numpy as np

        if isinstance(obj, np.ndarray):
            return obj.tolist()
        if isinstance(obj, np.generic):
            return obj.item()
    except ImportError:  # pragma: no cover
        pass
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return str(obj)
