"""Orbit Gram H and log det H for column scaling of U V^T: analytic versus generic autograd.

Issue target: U, V of shape 1000 x 64 (m = 64, n = 128000); the analytic path at least 100x
faster than the generic path, and the generic path usable, with its cost law in m and n
measured at three sizes. Prints ratios; asserts nothing.

Run: python benchmarks/bench_orbit_gram.py
"""

import time

import autograd.numpy as anp
import numpy as np

import quotientib as qib


def column_scaling(rows, rank, analytic):
    n = 2 * rows * rank

    def split(theta):
        u = theta[..., : rows * rank].reshape(theta.shape[:-1] + (rows, rank))
        v = theta[..., rows * rank:].reshape(theta.shape[:-1] + (rows, rank))
        return u, v

    def act(t, theta):
        u, v = split(theta)
        scale = anp.exp(t)[..., None, :]
        return anp.concatenate([(u * scale).reshape(theta.shape[:-1] + (-1,)),
                                (v / scale).reshape(theta.shape[:-1] + (-1,))], axis=-1)

    if not analytic:
        return qib.LieGroupAction(act, n, rank, name="column scaling (generic)")

    def fields(theta):
        # xi_j = (U_j e_j^T, -V_j e_j^T): column j of U and of V, everything else zero.
        u, v = split(theta)
        eye = np.eye(rank)
        fu = u[..., None, :, :] * eye[:, None, :]
        fv = -v[..., None, :, :] * eye[:, None, :]
        batch = theta.shape[:-1]
        return np.concatenate([fu.reshape(batch + (rank, -1)), fv.reshape(batch + (rank, -1))],
                              axis=-1)

    def gram(theta, metric):
        if not isinstance(metric, qib.EuclideanMetric):
            return NotImplemented
        u, v = split(theta)
        diag = np.sum(u**2, axis=-2) + np.sum(v**2, axis=-2)  # fields of distinct columns are
        return diag[..., None, :] * np.eye(rank)              # supported on disjoint entries

    return qib.LieGroupAction(act, n, rank, fundamental_fields=fields, orbit_gram=gram,
                              name="column scaling (analytic)")


def timed(fn, repeat=3):
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def measure(rows, rank, rng):
    theta = rng.standard_normal(2 * rows * rank)
    analytic = qib.Symmetry(column_scaling(rows, rank, True))
    generic = qib.Symmetry(column_scaling(rows, rank, False))
    t_an, ld_an = timed(lambda: analytic.log_det_orbit_gram(theta))
    t_ge, ld_ge = timed(lambda: generic.log_det_orbit_gram(theta), repeat=3)
    analytic_fields_sym = qib.Symmetry(qib.LieGroupAction(
        analytic.action.act, analytic.dim, rank,
        fundamental_fields=analytic.action._fields))
    t_af, ld_af = timed(lambda: analytic_fields_sym.log_det_orbit_gram(theta), repeat=2)
    assert abs(ld_an - ld_ge) <= 1e-8 * abs(ld_an) and abs(ld_an - ld_af) <= 1e-8 * abs(ld_an)
    return t_an, t_af, t_ge


def main():
    rng = np.random.default_rng(0)
    measure(100, 8, rng)  # warm-up: first calls pay for imports and autograd tracing set-up
    print("Column scaling of U V^T, U and V of shape rows x r; n = 2 rows r, m = r")
    print(f"{'rows':>6} {'m':>4} {'n':>8} {'analytic H':>12} {'dense fields':>13} "
          f"{'generic':>10} {'ratio gen/an':>13}")
    results = []
    for rows, rank in [(250, 16), (500, 32), (1000, 64), (1000, 16), (250, 64), (4000, 16)]:
        t_an, t_af, t_ge = measure(rows, rank, rng)
        results.append((rows, rank, t_an, t_af, t_ge))
        print(f"{rows:>6} {rank:>4} {2 * rows * rank:>8} {t_an * 1e3:>10.3f}ms "
              f"{t_af * 1e3:>11.1f}ms {t_ge * 1e3:>8.1f}ms {t_ge / t_an:>12.0f}x")
    target = [r for r in results if r[0] == 1000 and r[1] == 64][0]
    ratio = target[4] / target[2]
    print(f"\nTarget size 1000 x 64: generic / analytic = {ratio:.0f}x "
          f"({'PASS' if ratio >= 100 else 'MISS'} against >= 100x); "
          f"dense analytic fields alone: {target[4] / target[3]:.1f}x")
    # Cost law of the generic path: least-squares fit of log t = c + a log m + b log n.
    ms = np.array([r[1] for r in results], float)
    ns = np.array([2 * r[0] * r[1] for r in results], float)
    ts = np.array([r[4] for r in results])
    design = np.column_stack([np.ones_like(ms), np.log(ms), np.log(ns)])
    coef, *_ = np.linalg.lstsq(design, np.log(ts), rcond=None)
    print(f"Generic path cost law (fit over the sizes above): t ~ m^{coef[1]:.2f} n^{coef[2]:.2f}"
          " (expected m^2 n: m autograd directions, then an m x m Gram of length-n fields)")

if __name__ == "__main__":
    main()
