"""Benchmarks of quotientib.dynamics (issue 4, item 5). Run: python benchmarks/bench_dynamics.py

(i)  Ensemble Langevin on the uv model with 10^4 chains: chain-steps per second against a plain
     per-step Python loop over one chain of the same model (same gradient function, one
     ``rng.standard_normal(2)`` per step). Target ratio >= 100. A second baseline written with
     Python floats (``math``, pre-drawn normals) is printed for reference.
(ii) The d = 10 radial validation (paper v1 sec. 2.2) with >= 10^7 recorded samples of r:
     simulation + comparison of the law of r with r^(d-1) exp(-L/T) and exp(-L/T). Target wall
     time <= 60 s.

Options: --quick (smaller sizes, for a smoke run), --json PATH (write the numbers).
"""

import argparse
import json
import math
import os
import time

import numpy as np

import quotientib  # noqa: F401
from quotientib.dynamics import RadialModel, UVModel, compare_laws, langevin

TARGET_RATIO = 100.0
TARGET_RADIAL_SECONDS = 60.0


def bench_ensemble(chains, n_steps, baseline_steps):
    model = UVModel(1.0)
    temp, dt = 0.1, 1e-3
    x0 = np.random.default_rng(0).uniform(0.5, 1.5, size=(chains, 2))
    res = langevin(model.grad, x0, temperature=temp, dt=dt, n_steps=n_steps,
                   rng=np.random.default_rng(1), record_every=100,
                   observables={"D": lambda x: model.imbalance(x)[:, 0]}, progress=False)
    ensemble_rate = chains * n_steps / res.wall_time

    # Plain loop, one chain, the same model and gradient.
    rng = np.random.default_rng(2)
    x = x0[:1].copy()
    scale = math.sqrt(2 * temp * dt)
    t0 = time.perf_counter()
    for _ in range(baseline_steps):
        x = x - dt * model.grad(x) + scale * rng.standard_normal(2)
    loop_rate = baseline_steps / (time.perf_counter() - t0)

    # Python floats, normals drawn beforehand (the cheapest per-step loop).
    noise = np.random.default_rng(3).standard_normal((baseline_steps, 2)).tolist()
    u, v = float(x0[0, 0]), float(x0[0, 1])
    t0 = time.perf_counter()
    for a, b in noise:
        r = u * v - 1.0
        u, v = u - dt * r * v + scale * a, v - dt * r * u + scale * b
    float_rate = baseline_steps / (time.perf_counter() - t0)
    return {
        "chains": chains, "n_steps": n_steps, "ensemble_chain_steps_per_s": ensemble_rate,
        "loop_chain_steps_per_s": loop_rate, "float_loop_chain_steps_per_s": float_rate,
        "ratio": ensemble_rate / loop_rate, "ratio_vs_float_loop": ensemble_rate / float_rate,
    }


def bench_radial(chains, burn_in, n_records, record_every):
    model = RadialModel(10, center=1.0, stiffness=1.0)
    temp, dt = 1.0, 0.01
    t0 = time.perf_counter()
    x0 = np.random.default_rng(0).standard_normal((chains, 10))
    warm = langevin(model.grad, x0, temperature=temp, dt=dt, n_steps=burn_in,
                    rng=np.random.default_rng(1), scheme="leimkuhler_matthews",
                    record_every=burn_in, progress=False)
    res = langevin(model.grad, warm.final, temperature=temp, dt=dt,
                   n_steps=n_records * record_every, rng=np.random.default_rng(2),
                   scheme="leimkuhler_matthews", record_every=record_every,
                   observables={"r": model.radius}, progress=False)
    r = res.observables["r"][:, 1:]
    cmp = compare_laws(
        r,
        {
            "r^(d-1) exp(-L/T)": lambda s: model.radial_log_density(s, temp, orbit_volume=True),
            "exp(-L/T)": lambda s: model.radial_log_density(s, temp, orbit_volume=False),
        },
        support=(0.0, 10.0), rng=np.random.default_rng(3),
    )
    wall = time.perf_counter() - t0
    return {
        "chains": chains, "recorded_samples": int(r.size), "dt": dt, "temperature": temp,
        "scheme": "leimkuhler_matthews", "wall_time_s": wall,
        "simulation_s": warm.wall_time + res.wall_time, "verdict": cmp.verdict,
        "ks": cmp.ks, "ks_upper": cmp.ks_upper, "tv": cmp.tv, "threshold": cmp.threshold,
        "summary": cmp.summary(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    print(f"cpu count {os.cpu_count()}, load average {os.getloadavg()}")
    if args.quick:
        ens = bench_ensemble(10_000, 200, 2_000)
        rad = bench_radial(1_000, 200, 100, 5)
    else:
        ens = bench_ensemble(10_000, 2_000, 20_000)
        rad = bench_radial(10_000, 500, 1_000, 5)
    ok1 = ens["ratio"] >= TARGET_RATIO
    print("(i) ensemble Langevin, uv model, "
          f"{ens['chains']} chains x {ens['n_steps']} steps")
    print(f"    ensemble    {ens['ensemble_chain_steps_per_s']:.3e} chain-steps/s")
    print(f"    plain loop  {ens['loop_chain_steps_per_s']:.3e} chain-steps/s (numpy, 1 chain)")
    print(f"    float loop  {ens['float_loop_chain_steps_per_s']:.3e} chain-steps/s "
          "(python floats, pre-drawn noise; reference)")
    print(f"    ratio {ens['ratio']:.0f}x (target >= {TARGET_RATIO:.0f}x): "
          f"{'PASS' if ok1 else 'MISS'};  vs float loop {ens['ratio_vs_float_loop']:.0f}x")
    ok2 = rad["wall_time_s"] <= TARGET_RADIAL_SECONDS and rad["recorded_samples"] >= 10**7
    print(f"(ii) radial d = 10, {rad['chains']} chains, {rad['recorded_samples']:.2e} recorded "
          f"samples of r, dt = {rad['dt']}, T = {rad['temperature']}, {rad['scheme']}")
    print(f"    wall time {rad['wall_time_s']:.1f} s (simulation {rad['simulation_s']:.1f} s; "
          f"target <= {TARGET_RADIAL_SECONDS:.0f} s with >= 1e7 samples): "
          f"{'PASS' if ok2 else 'MISS'}")
    print("    " + rad["summary"].replace("\n", "\n    "))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"ensemble": ens, "radial": rad, "pass": {"ratio": ok1, "radial": ok2}},
                      fh, indent=2, default=float)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
