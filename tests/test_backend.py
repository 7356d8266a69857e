import os
import subprocess
import sys

import pytest


def run(code, **env):
    full_env = {k: v for k, v in os.environ.items() if k != "GEOMSTATS_BACKEND"}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full_env, timeout=120)


def test_backend_is_autograd_after_import():
    out = run("import quotientib, geomstats._backend as b; print(b.BACKEND_NAME)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("autograd")


@pytest.mark.parametrize("code,env", [
    ("import geomstats.backend; import quotientib", {"GEOMSTATS_BACKEND": "numpy"}),
    ("import quotientib", {"GEOMSTATS_BACKEND": "pytorch"}),
])
def test_conflicting_backend_raises(code, env):
    out = run(code, **env)
    assert out.returncode != 0
    assert "BackendError" in out.stderr and "autograd" in out.stderr
