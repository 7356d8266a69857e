"""Select geomstats' autograd backend before geomstats is first imported.

geomstats reads ``GEOMSTATS_BACKEND`` once, at its first import, and cannot switch afterwards.
quotientib needs the autograd backend (its derivatives of user maps go through autograd and its
arrays must be plain NumPy arrays), so this module sets the variable when geomstats has not been
imported yet, and refuses to continue when it was imported with another backend.
"""

import os
import sys

from quotientib.errors import BackendError

_REQUIRED = "autograd"


def ensure_autograd_backend():
    """Make geomstats use its autograd backend, or raise if it is too late.

    Raises
    ------
    BackendError
        If geomstats was already imported with a backend other than autograd, or if the
        environment asks for another backend.
    """
    if "geomstats" in sys.modules:
        from geomstats._backend import BACKEND_NAME

        if BACKEND_NAME != _REQUIRED:
            raise BackendError(
                f"geomstats was already imported with the {BACKEND_NAME!r} backend; quotientib "
                f"needs {_REQUIRED!r}. Import quotientib before geomstats, or set "
                f"GEOMSTATS_BACKEND={_REQUIRED} before starting Python."
            )
        return
    requested = os.environ.get("GEOMSTATS_BACKEND")
    if requested not in (None, "", _REQUIRED):
        raise BackendError(
            f"GEOMSTATS_BACKEND={requested!r} is set, but quotientib needs {_REQUIRED!r}; "
            "unset it or set it to 'autograd'."
        )
    os.environ["GEOMSTATS_BACKEND"] = _REQUIRED


ensure_autograd_backend()
