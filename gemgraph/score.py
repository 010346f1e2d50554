r"""What a search maximises: the NASGEM efficiency score, or the accuracy inside a regime.

The paper's **efficiency score** (objective ``"efficiency"``):

.. math:: S = \mathrm{ACC} - \lambda \, \ln(\mathrm{MACs} / 10^6)

with accuracy in [0, 1], MACs counted per image (:func:`gemgraph.cost.count`) and expressed
in millions, the *natural* logarithm and :math:`\lambda = 0.1` (the paper's setting). A
network of 100M MACs pays 0.1 * ln(100) = 0.46; doubling the MACs costs 0.1 * ln 2 = 0.069,
i.e. 6.9 accuracy points.

The **regime** objective (``"regime"``) is the form the paper's computation regimes suggest
(GEMNet-A / B are the best cells *within* a MAC budget): maximise the accuracy of cells that
lie inside a MAC window (the search space only holds such cells), S = ACC. It matters when the
proxy's accuracies differ by less than the cost term does: across a 4x MAC window
``0.1 ln 4 = 0.14``, while a short proxy training separates cells by a few accuracy points, so
under the efficiency score the smallest cell wins whatever its accuracy.
"""
from __future__ import annotations

import math

import numpy as np
from .errors import InputError

__all__ = ["OBJECTIVES", "efficiency", "objective_score", "check_objective"]

#: The objectives a search can maximise: the paper's efficiency score, the accuracy in a regime.
OBJECTIVES: tuple[str, ...] = ("efficiency", "regime")


def check_objective(objective: object, argument: str = "objective") -> str:
    """``objective`` if it names one of :data:`OBJECTIVES`, else a ValueError naming ``argument``."""
    if not isinstance(objective, str) or objective not in OBJECTIVES:
        raise InputError(f"{argument}: expected one of {list(OBJECTIVES)}, got {objective!r}")
    return objective


def efficiency(acc, macs, lam: float = 0.1):
    r"""Efficiency score ``acc - lam * ln(macs / 1e6)``.

    Args:
        acc: accuracy in [0, 1] (float or array).
        macs: multiply-accumulates per image, > 0 (float or array, broadcast with ``acc``).
        lam: weight of the cost term, >= 0.

    Returns:
        A float for scalar inputs, else a numpy array.

    Raises:
        ValueError: for accuracies outside [0, 1] (a percentage given by mistake, say),
            non-positive MACs or a negative ``lam``.
    """
    a = np.asarray(acc, dtype=np.float64)
    m = np.asarray(macs, dtype=np.float64)
    if not (np.all(a >= 0.0) and np.all(a <= 1.0)):
        raise InputError(f"acc: expected accuracy in [0, 1] (a fraction, not a percentage), got {acc!r}")
    if not np.all(m > 0):
        raise InputError(f"macs: expected a positive number of multiply-accumulates, got {macs!r}")
    if not (isinstance(lam, (int, float)) and lam >= 0 and math.isfinite(lam)):
        raise InputError(f"lam: expected a finite number >= 0, got {lam!r}")
    s = a - lam * np.log(m / 1e6)
    return float(s) if s.ndim == 0 else s


def objective_score(acc, macs, objective: str = "efficiency", lam: float = 0.1):
    r"""The score of ``objective``: :func:`efficiency` for ``"efficiency"``, the accuracy itself
    for ``"regime"`` (``macs`` is then only checked to be positive).

    Args:
        acc: accuracy in [0, 1] (float or array).
        macs: multiply-accumulates per image, > 0 (broadcast with ``acc``).
        objective: one of :data:`OBJECTIVES`.
        lam: the cost weight of ``"efficiency"``.

    Returns:
        A float for scalar inputs, else a numpy array.
    """
    check_objective(objective)
    if objective == "efficiency":
        return efficiency(acc, macs, lam)
    return efficiency(acc, macs, 0.0)
