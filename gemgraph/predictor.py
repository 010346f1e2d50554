r"""The efficiency-score predictor: an ensemble of two-layer MLPs on graph vectors (scikit-learn style).

``fit(Z, y)`` standardises the inputs, transforms the targets (``target="rank"``: rank to
normal scores, so a few failed or very bad models cannot dominate the fit; ``"none"``: plain
standardisation, the paper's regression), and trains ``n_members`` small MLPs, each on its own
random train / validation split and early-stopped on its validation part, with a squared loss
(``loss="mse"``) or a pairwise logistic ranking loss (``loss="pairwise"``). The members are
trained together as one batched network (one set of tensor operations per epoch for the whole
ensemble) but independently: each has its own weights, split, Adam state and stopping epoch.

``predict`` answers on the score's own scale: the members' outputs are mapped back through
the training targets' quantiles (``"rank"`` and ``"pairwise"``: a monotone piecewise-linear
map from the training points' model scale to their sorted targets, extended linearly past
the extremes so the order of predictions is never flattened) or by undoing the
standardisation (``"none"`` with ``"mse"``). ``return_std`` gives the ensemble spread on the
same scale. ``update`` is Algorithm 1's step: refit on all pairs seen so far. Everything is
deterministic for a given ``seed``.

Defaults (``target="rank"``, ``loss="mse"``, ``n_members=5``, Adam at 1e-2 for at most 200
epochs with patience 20) were chosen on the NAS-Bench-101 dev file
(``benchmarks/predictor_choice.py``; the figures are in the README); the paper's setting is
``EfficiencyPredictor(**PAPER_PREDICTOR)``: one member, plain regression.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy.stats import norm, rankdata
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .utils import check_int, resolve_device, single_thread
from .errors import InputError

__all__ = ["EfficiencyPredictor", "PAPER_PREDICTOR", "TARGETS", "LOSSES"]

#: Target transforms: ``"none"`` (standardise) and ``"rank"`` (rank -> normal scores).
TARGETS: tuple[str, ...] = ("none", "rank")
#: Training losses: squared error or pairwise logistic (RankNet-style) ranking loss.
LOSSES: tuple[str, ...] = ("mse", "pairwise")
#: The paper's predictor: one two-layer MLP regressing the standardised score.
#: (The training settings are gemgraph 0.1's, which the paper does not state.)
PAPER_PREDICTOR: dict[str, Any] = {"n_members": 1, "target": "none", "loss": "mse", "lr": 3e-3, "max_epochs": 500,
                                   "patience": 50}

# pairs drawn per member and epoch for the pairwise loss
_PAIRS_PER_EPOCH = 4096


def _as_2d(Z: Any, name: str) -> np.ndarray:
    if isinstance(Z, torch.Tensor):
        Z = Z.detach().cpu().numpy()
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2:
        raise InputError(f"{name}: expected a 2-D array (n_samples, n_features), got shape {Z.shape}")
    if not np.isfinite(Z).all():
        bad = np.argwhere(~np.isfinite(Z))[0]
        raise InputError(f"{name}: contains NaN or inf (first at row {bad[0]}, column {bad[1]})")
    return Z


def _as_1d(y: Any, n: int, name: str) -> np.ndarray:
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu().numpy()
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if y.shape[0] != n:
        raise InputError(f"{name}: expected {n} targets (one per row of Z), got {y.shape[0]}")
    if not np.isfinite(y).all():
        raise InputError(f"{name}: contains NaN or inf at index {int(np.flatnonzero(~np.isfinite(y))[0])}; "
                         "drop failed candidates before fitting")
    big = float(np.abs(y).max()) if y.size else 0.0
    if big > 1e150:
        raise InputError(f"{name}: expected scores of moderate magnitude (|y| <= 1e150), got a value of {big:.3g}; "
                         "rescale the targets")
    return y


def normal_scores(y: np.ndarray) -> np.ndarray:
    r"""Rank-to-normal scores (Blom-style ``(rank - 0.5) / n``, ties share their mean rank).

    Shapes: ``(n,) -> (n,)``, mean 0 and roughly unit variance; monotone in ``y``.
    """
    n = y.shape[0]
    return norm.ppf((rankdata(y, method="average") - 0.5) / n)


class _Monotone:
    """A monotone piecewise-linear map ``x -> y`` through sorted knots, linear past the ends.

    Built from paired samples (duplicate ``x`` are averaged); beyond the extreme knots it
    continues with the slope of the chord over the outer ~5% of the knots, so it is strictly
    increasing whenever the knots are (rankings are preserved, no plateau at the top).
    """

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        order = np.argsort(x, kind="stable")
        x, y = x[order], np.sort(y)  # quantile matching: i-th smallest x -> i-th smallest y
        ux, inv = np.unique(x, return_inverse=True)
        uy = np.bincount(inv, weights=y) / np.bincount(inv)
        self.x, self.y = ux, uy
        k = max(1, len(ux) // 20)
        if len(ux) >= 2:
            self.lo = (uy[k] - uy[0]) / (ux[k] - ux[0]) if ux[k] > ux[0] else 0.0
            self.hi = (uy[-1] - uy[-1 - k]) / (ux[-1] - ux[-1 - k]) if ux[-1] > ux[-1 - k] else 0.0
        else:
            self.lo = self.hi = 0.0

    def __call__(self, v: np.ndarray) -> np.ndarray:
        out = np.interp(v, self.x, self.y)
        lo, hi = v < self.x[0], v > self.x[-1]
        out[lo] = self.y[0] + (v[lo] - self.x[0]) * self.lo
        out[hi] = self.y[-1] + (v[hi] - self.x[-1]) * self.hi
        return out


class _BatchedMLP(torch.nn.Module):
    """``M`` independent two-layer MLPs ``d -> hidden -> 1`` evaluated as one batched product.

    Initialised like ``torch.nn.Linear`` (uniform in ``+-1/sqrt(fan_in)``).

    Shapes: input (n, d) -> output (M, n).
    """

    def __init__(self, members: int, d: int, hidden: int) -> None:
        super().__init__()
        b1, b2 = 1.0 / math.sqrt(d), 1.0 / math.sqrt(hidden)
        self.w1 = torch.nn.Parameter(torch.empty(members, d, hidden).uniform_(-b1, b1))
        self.b1 = torch.nn.Parameter(torch.empty(members, 1, hidden).uniform_(-b1, b1))
        self.w2 = torch.nn.Parameter(torch.empty(members, hidden, 1).uniform_(-b2, b2))
        self.b2 = torch.nn.Parameter(torch.empty(members, 1, 1).uniform_(-b2, b2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(torch.matmul(x, self.w1) + self.b1)  # (M, n, hidden)
        return (torch.bmm(h, self.w2) + self.b2).squeeze(2)


class EfficiencyPredictor(RegressorMixin, BaseEstimator):
    r"""Ensemble of two-layer MLP regressors ``z -> score`` with target transforms, early
    stopping and a ranking loss option.

    Args:
        hidden: width of the hidden layer (the paper's predictor has two linear layers).
        n_members: ensemble size; ``predict(..., return_std=True)`` gives the members' spread
            (0 for one member).
        target: ``"rank"`` (rank-to-normal scores of the targets: robust to failed / outlying
            models, spends the fit on the order) or ``"none"`` (standardised scores, the paper).
        loss: ``"mse"`` (squared error on the transformed targets) or ``"pairwise"``
            (logistic loss on the sign of target differences over random pairs; the output is
            then only a ranking, mapped to the score scale by quantile matching).
        max_epochs: maximum full-batch epochs per member.
        patience: early-stopping patience (epochs without validation improvement).
        val_fraction: fraction of the data held out per member for early stopping (at least
            2 points; with fewer than 10 points no hold-out, ``max_epochs`` are run).
        lr, weight_decay: Adam settings.
        seed: seed of the splits, pairs and initial weights.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.

    ``predict`` returns scores on the targets' own scale. With ``target="rank"`` or
    ``loss="pairwise"`` a prediction is mapped back through the training targets' quantiles:
    a candidate the model places at the training set's q-th quantile gets (about) the q-th
    quantile of the training scores; past the best (worst) training point the map continues
    linearly, so predictions stay in rank order.

    Attributes (after ``fit``):
        ``n_features_in_``: input dimension.
        ``Z_``, ``y_``: the training data (``update`` appends to them).
        ``members_``: the fitted batched ensemble (a ``torch.nn.Module``; output (n_members, m)).
        ``epochs_``: per member, the number of optimiser steps behind its kept weights.

    Shapes:
        ``fit(Z (n, d), y (n,))``; ``predict(Z (m, d)) -> (m,)`` (and ``(m,)`` std).
    """

    def __init__(
        self,
        hidden: int = 128,
        n_members: int = 5,
        target: str = "rank",
        loss: str = "mse",
        max_epochs: int = 200,
        patience: int = 20,
        val_fraction: float = 0.15,
        lr: float = 1e-2,
        weight_decay: float = 1e-4,
        seed: int = 0,
        device: str | torch.device = "cpu",
    ) -> None:
        self.hidden = hidden
        self.n_members = n_members
        self.target = target
        self.loss = loss
        self.max_epochs = max_epochs
        self.patience = patience
        self.val_fraction = val_fraction
        self.lr = lr
        self.weight_decay = weight_decay
        self.seed = seed
        self.device = device

    def __repr__(self) -> str:
        fitted = f", fitted on {len(self.y_)}" if self.__sklearn_is_fitted__() else ""
        return (f"EfficiencyPredictor(hidden={self.hidden}, n_members={self.n_members}, target={self.target!r}, "
                f"loss={self.loss!r}, max_epochs={self.max_epochs}, seed={self.seed}{fitted})")

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted once :meth:`fit` has trained the ensemble (``members_``); what scikit-learn's
        ``check_is_fitted`` asks."""
        return hasattr(self, "members_")  # the one definition of fitted; everything else asks check_is_fitted

    # ------------------------------------------------------------------ fitting
    def check_params(self) -> "EfficiencyPredictor":
        """Validate the constructor arguments (raises ``ValueError`` naming the bad one); returns self."""
        check_int(self.hidden, "hidden", 1)
        check_int(self.n_members, "n_members", 1)
        check_int(self.max_epochs, "max_epochs", 1)
        check_int(self.patience, "patience", 1)
        if self.target not in TARGETS:
            raise InputError(f"target: expected one of {list(TARGETS)}, got {self.target!r}")
        if self.loss not in LOSSES:
            raise InputError(f"loss: expected one of {list(LOSSES)}, got {self.loss!r}")
        if not 0.0 <= float(self.val_fraction) < 1.0:
            raise InputError(f"val_fraction: expected a float in [0, 1), got {self.val_fraction!r}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise InputError(f"lr: expected a positive float, got {self.lr!r}")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise InputError(f"weight_decay: expected a float >= 0, got {self.weight_decay!r}")
        return self

    def fit(self, Z: Any, y: Any) -> "EfficiencyPredictor":
        """Fit on graph vectors ``Z`` (n, d) and scores ``y`` (n,). Returns self.

        Raises:
            ValueError: for bad parameters, mismatched sizes, fewer than 2 samples, or NaN /
                inf values.
        """
        self.check_params()
        Z = _as_2d(Z, "Z")
        y = _as_1d(y, Z.shape[0], "y")
        if Z.shape[0] < 2:
            raise InputError(f"Z: need at least 2 samples to fit, got {Z.shape[0]}")
        self.Z_, self.y_ = Z, y
        with single_thread(), torch.enable_grad():
            self._fit_members()
        return self

    def update(self, Z_new: Any, y_new: Any) -> "EfficiencyPredictor":
        """Append ``(Z_new, y_new)`` to the data and refit on everything (Algorithm 1)."""
        Z_new = _as_2d(Z_new, "Z_new")
        y_new = _as_1d(y_new, Z_new.shape[0], "y_new")
        if not self.__sklearn_is_fitted__():
            return self.fit(Z_new, y_new)
        if Z_new.shape[1] != self.Z_.shape[1]:
            raise InputError(f"Z_new: expected {self.Z_.shape[1]} features, got {Z_new.shape[1]}")
        return self.fit(np.concatenate([self.Z_, Z_new]), np.concatenate([self.y_, y_new]))

    def _targets(self, y: np.ndarray) -> np.ndarray:
        if self.target == "rank":
            return normal_scores(y)
        return (y - self.y_mean_) / self.y_std_

    def _fit_members(self) -> None:
        Z, y = self.Z_, self.y_
        n, d = Z.shape
        M = int(self.n_members)
        self.n_features_in_ = d
        self.z_mean_ = Z.mean(0)
        self.z_std_ = Z.std(0)
        self.z_std_[self.z_std_ < 1e-12] = 1.0
        self.y_mean_ = float(y.mean())
        self.constant_ = bool(y.std() <= 1e-12 * max(1.0, abs(self.y_mean_)))
        self.y_std_ = 1.0 if self.constant_ else float(y.std())
        dev = resolve_device(self.device)
        Zt = torch.as_tensor((Z - self.z_mean_) / self.z_std_, dtype=torch.float32, device=dev)
        yt = torch.as_tensor(self._targets(y) if not self.constant_ else np.zeros(n), dtype=torch.float32, device=dev)
        rng = np.random.default_rng(self.seed)
        n_val = int(round(n * float(self.val_fraction))) if n >= 10 else 0
        n_val = max(n_val, 2) if n >= 10 and self.val_fraction > 0 else n_val
        tr_mask = np.ones((M, n), dtype=bool)
        va_mask = np.zeros((M, n), dtype=bool)
        for m in range(M):
            held = rng.permutation(n)[:n_val]
            tr_mask[m, held], va_mask[m, held] = False, True
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(rng.integers(0, 2**31)))
            net = _BatchedMLP(M, d, int(self.hidden)).to(dev)
        pair_rng = torch.Generator().manual_seed(int(rng.integers(0, 2**31)))
        tr = torch.as_tensor(tr_mask, device=dev, dtype=torch.float32)
        va = torch.as_tensor(va_mask, device=dev, dtype=torch.float32)
        n_tr = tr.sum(1).clamp_min(1.0)
        n_va = va.sum(1).clamp_min(1.0)
        pairwise = self.loss == "pairwise" and not self.constant_
        if pairwise:
            tr_idx = [torch.as_tensor(np.flatnonzero(tr_mask[m]), device=dev) for m in range(M)]
            va_pairs = self._val_pairs(va_mask, y, dev)
        opt = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        best = torch.full((M,), float("inf"), device=dev)
        best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        best_ep = np.zeros(M, dtype=np.int64)
        bad = np.zeros(M, dtype=np.int64)
        active = np.ones(M, dtype=bool)
        ep = 0
        for ep in range(1, int(self.max_epochs) + 1):
            net.train()
            out = net(Zt)  # (M, n), with the weights after ep - 1 steps
            if n_val:
                # validate these weights on the same forward pass (the MLP has no dropout or
                # normalisation, so train and eval outputs are equal): one forward per epoch
                with torch.no_grad():
                    o = out.detach()
                    v = self._val_pair_loss(o, va_pairs) if pairwise else ((o - yt) ** 2 * va).sum(1) / n_va
                improved = (v < best - 1e-7).cpu().numpy() & active
                if improved.any():
                    imp = torch.as_tensor(improved, device=dev)
                    best = torch.where(imp, v, best)
                    for k, val in net.state_dict().items():
                        best_state[k][imp] = val[imp]
                    best_ep[improved] = ep - 1
                bad[improved] = 0
                bad[~improved & active] += 1
                active &= bad < self.patience
                if not active.any():
                    break
            if pairwise:
                loss = self._pair_loss(out, yt, tr_idx, pair_rng).sum()
            else:
                loss = (((out - yt) ** 2 * tr).sum(1) / n_tr).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if n_val:
            net.load_state_dict(best_state)
        else:
            best_ep[:] = ep
        net.eval()
        self.members_ = net
        self.epochs_ = best_ep.tolist()
        self._calibrate()

    @staticmethod
    def _val_pairs(va_mask: np.ndarray, y: np.ndarray, dev: torch.device) -> list:
        out = []
        for m in range(va_mask.shape[0]):
            idx = np.flatnonzero(va_mask[m])
            i, j = np.triu_indices(idx.shape[0], 1)
            a, b = idx[i], idx[j]
            keep = y[a] != y[b]
            a, b = a[keep], b[keep]
            sign = np.sign(y[a] - y[b])
            out.append((torch.as_tensor(a, device=dev), torch.as_tensor(b, device=dev),
                        torch.as_tensor(sign, dtype=torch.float32, device=dev)))
        return out

    @staticmethod
    def _pair_loss(out: torch.Tensor, yt: torch.Tensor, tr_idx: list, gen: torch.Generator) -> torch.Tensor:
        losses = []
        for m, idx in enumerate(tr_idx):
            k = idx.shape[0]
            a = idx[torch.randint(0, k, (_PAIRS_PER_EPOCH,), generator=gen).to(idx.device)]
            b = idx[torch.randint(0, k, (_PAIRS_PER_EPOCH,), generator=gen).to(idx.device)]
            sign = torch.sign(yt[a] - yt[b])
            w = (sign != 0).float()
            margin = sign * (out[m, a] - out[m, b])
            losses.append((torch.nn.functional.softplus(-margin) * w).sum() / w.sum().clamp_min(1.0))
        return torch.stack(losses)

    @staticmethod
    def _val_pair_loss(out: torch.Tensor, pairs: list) -> torch.Tensor:
        vals = []
        for m, (a, b, sign) in enumerate(pairs):
            if a.numel() == 0:
                vals.append(out.new_zeros(()))
                continue
            vals.append(torch.nn.functional.softplus(-sign * (out[m, a] - out[m, b])).mean())
        return torch.stack(vals)

    def _calibrate(self) -> None:
        """The per-member maps from model outputs to the score scale (see the class doc)."""
        self.maps_ = None
        if self.constant_ or (self.target == "none" and self.loss == "mse"):
            return
        if self.loss == "mse":
            # the members regress normal scores: map those back through the targets' quantiles
            self.maps_ = [_Monotone(normal_scores(self.y_), self.y_)] * int(self.n_members)
        else:
            # a ranking model's outputs have no scale: match each member's training outputs to the targets
            raw = self._raw(torch.as_tensor((self.Z_ - self.z_mean_) / self.z_std_, dtype=torch.float32))
            self.maps_ = [_Monotone(raw[m], self.y_) for m in range(raw.shape[0])]

    # ------------------------------------------------------------------ prediction
    @torch.no_grad()
    def _raw(self, x: torch.Tensor, batch_size: int = 65_536) -> np.ndarray:
        """Members' outputs on standardised inputs: (n_members, m) float64."""
        dev = self.members_.w1.device
        parts = []
        with single_thread():
            for s in range(0, x.shape[0], batch_size):
                parts.append(self.members_(x[s : s + batch_size].to(dev)).cpu())
        if not parts:
            return np.zeros((int(self.members_.w1.shape[0]), 0))
        return torch.cat(parts, dim=1).double().numpy()

    def predict(self, Z: Any, return_std: bool = False,
                batch_size: int = 65_536) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Predicted scores for ``Z`` (m, d) on the targets' scale: ensemble mean (m,), and std (m,) if asked."""
        check_is_fitted(self, msg="%(name)s: not fitted yet; call fit(Z, y) before predict()")
        if isinstance(Z, torch.Tensor):
            Zt = Z.detach().float().cpu()
            if Zt.dim() != 2:
                raise InputError(f"Z: expected a 2-D array (n_samples, n_features), got shape {tuple(Zt.shape)}")
            if not torch.isfinite(Zt).all():
                raise InputError("Z: contains NaN or inf")
        else:
            Zt = torch.as_tensor(_as_2d(Z, "Z"), dtype=torch.float32)
        if Zt.shape[1] != self.n_features_in_:
            raise InputError(f"Z: expected {self.n_features_in_} features, got {Zt.shape[1]}")
        mean = torch.as_tensor(self.z_mean_, dtype=torch.float32)
        std = torch.as_tensor(self.z_std_, dtype=torch.float32)
        P = self._raw((Zt - mean) / std, batch_size)
        if self.constant_:
            P = np.full_like(P, self.y_mean_)  # constant training targets: predict that constant exactly
        elif self.maps_ is None:
            P = P * self.y_std_ + self.y_mean_
        else:
            P = np.stack([f(p) for f, p in zip(self.maps_, P)]) if P.shape[1] else P
        mu = P.mean(0)
        if return_std:
            return mu, P.std(0)
        return mu

    def score(self, Z: Any, y: Any, sample_weight: Any = None) -> float:
        """Coefficient of determination R^2 of the predictions (scikit-learn convention)."""
        from sklearn.metrics import r2_score  # noqa: PLC0415 - sklearn.metrics (~20 ms) loads for score() only

        Z = _as_2d(Z, "Z")
        return float(r2_score(_as_1d(y, Z.shape[0], "y"), self.predict(Z), sample_weight=sample_weight))

    # ------------------------------------------------------------------ persistence
    _PARAMS = ("hidden", "n_members", "target", "loss", "max_epochs", "patience", "val_fraction", "lr",
               "weight_decay", "seed")

    def state_dict(self) -> dict[str, Any]:
        """Parameters, data and fitted weights as plain tensors / lists (``weights_only`` safe)."""
        check_is_fitted(self, msg="%(name)s: not fitted yet, nothing to save; call fit(Z, y) before state_dict()")
        return {
            "format": 2,
            "params": {k: getattr(self, k) for k in self._PARAMS},
            "Z": torch.as_tensor(self.Z_), "y": torch.as_tensor(self.y_),
            "z_mean": torch.as_tensor(self.z_mean_), "z_std": torch.as_tensor(self.z_std_),
            "y_mean": self.y_mean_, "y_std": self.y_std_, "epochs": list(self.epochs_),
            "members": {k: v.cpu() for k, v in self.members_.state_dict().items()},
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any], device: str | torch.device = "cpu") -> "EfficiencyPredictor":
        """Rebuild a fitted predictor from :meth:`state_dict` (also the format-1 layout of gemgraph 0.1:
        a list of single ``nn.Sequential`` members, plain regression)."""
        try:
            params = dict(state["params"])
            members = state["members"]
            if isinstance(members, list):  # format 1: one nn.Sequential(Linear, ReLU, Linear) per member
                params.setdefault("target", "none")
                params.setdefault("loss", "mse")
                members = {
                    "w1": torch.stack([m["0.weight"].T for m in members]),
                    "b1": torch.stack([m["0.bias"][None, :] for m in members]),
                    "w2": torch.stack([m["2.weight"].T for m in members]),
                    "b2": torch.stack([m["2.bias"][None, :] for m in members]),
                }
            self = cls(**params, device=device)
            self.check_params()
            self.Z_, self.y_ = state["Z"].double().numpy(), state["y"].double().numpy()
            self.z_mean_, self.z_std_ = state["z_mean"].double().numpy(), state["z_std"].double().numpy()
            self.y_mean_, self.y_std_ = float(state["y_mean"]), float(state["y_std"])
            self.n_features_in_ = self.Z_.shape[1]
            self.epochs_ = list(state["epochs"])
            net = _BatchedMLP(int(self.n_members), self.n_features_in_, int(self.hidden))
            net.load_state_dict(members)
        except (KeyError, TypeError, AttributeError, RuntimeError, IndexError) as exc:
            raise InputError(f"state: not a valid EfficiencyPredictor state ({type(exc).__name__}: {exc})") from None
        self.constant_ = bool(self.y_.std() <= 1e-12 * max(1.0, abs(self.y_mean_)))
        self.members_ = net.to(resolve_device(device)).eval()
        self._calibrate()
        return self
