r"""The efficiency-score predictor: a two-layer MLP on graph vectors (scikit-learn style).

``fit(Z, y)`` standardises the inputs and targets, trains ``n_members`` small MLPs (each on
its own random train/validation split, early-stopped on its validation part) and keeps them
all; ``predict`` returns the ensemble mean (and, with ``return_std``, the spread, a cheap
uncertainty estimate). ``update`` implements Algorithm 1's step: refit on all pairs seen so far.
Everything is deterministic for a given ``seed``.
"""
from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import nn

from .utils import check_int, resolve_device, single_thread


def _as_2d(Z: Any, name: str) -> np.ndarray:
    if isinstance(Z, torch.Tensor):
        Z = Z.detach().cpu().numpy()
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array (n_samples, n_features), got shape {Z.shape}")
    if not np.isfinite(Z).all():
        bad = np.argwhere(~np.isfinite(Z))[0]
        raise ValueError(f"{name}: contains NaN or inf (first at row {bad[0]}, column {bad[1]})")
    return Z


def _as_1d(y: Any, n: int, name: str) -> np.ndarray:
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu().numpy()
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if y.shape[0] != n:
        raise ValueError(f"{name}: expected {n} targets (one per row of Z), got {y.shape[0]}")
    if not np.isfinite(y).all():
        raise ValueError(f"{name}: contains NaN or inf at index {int(np.flatnonzero(~np.isfinite(y))[0])}; "
                         "drop failed candidates before fitting")
    return y


class EfficiencyPredictor(BaseEstimator):
    r"""Two-layer MLP regressor ``z -> score`` with standardisation, early stopping and an
    optional ensemble.

    Args:
        hidden: width of the hidden layer (the paper's predictor has two linear layers).
        n_members: ensemble size (1 = a single MLP; more gives ``predict(..., return_std=True)``).
        max_epochs: maximum full-batch epochs per member.
        patience: early-stopping patience (epochs without validation improvement).
        val_fraction: fraction of the data held out per member for early stopping (at least
            2 points; with fewer than 10 points no hold-out, ``max_epochs`` are run).
        lr, weight_decay: Adam settings.
        seed: seed of the splits and initial weights.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.

    Attributes (after ``fit``):
        n_features_in_: input dimension.
        Z_, y_: the training data (``update`` appends to them).
        members_: the fitted MLPs.

    Shapes:
        ``fit(Z (n, d), y (n,))``; ``predict(Z (m, d)) -> (m,)``.
    """

    def __init__(
        self,
        hidden: int = 128,
        n_members: int = 1,
        max_epochs: int = 500,
        patience: int = 50,
        val_fraction: float = 0.15,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        seed: int = 0,
        device: str | torch.device = "cpu",
    ) -> None:
        self.hidden = hidden
        self.n_members = n_members
        self.max_epochs = max_epochs
        self.patience = patience
        self.val_fraction = val_fraction
        self.lr = lr
        self.weight_decay = weight_decay
        self.seed = seed
        self.device = device

    def __repr__(self) -> str:
        fitted = f", fitted on {len(self.y_)}" if hasattr(self, "y_") else ""
        return (f"EfficiencyPredictor(hidden={self.hidden}, n_members={self.n_members}, "
                f"max_epochs={self.max_epochs}, seed={self.seed}{fitted})")

    # ------------------------------------------------------------------ fitting
    def _check(self) -> None:
        check_int(self.hidden, "hidden", 1)
        check_int(self.n_members, "n_members", 1)
        check_int(self.max_epochs, "max_epochs", 1)
        check_int(self.patience, "patience", 1)
        if not 0.0 <= float(self.val_fraction) < 1.0:
            raise ValueError(f"val_fraction: expected a float in [0, 1), got {self.val_fraction!r}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr: expected a positive float, got {self.lr!r}")

    def fit(self, Z: Any, y: Any) -> "EfficiencyPredictor":
        """Fit on graph vectors ``Z`` (n, d) and scores ``y`` (n,). Returns self.

        Raises:
            ValueError: for mismatched sizes, fewer than 2 samples, or NaN / inf values.
        """
        self._check()
        Z = _as_2d(Z, "Z")
        y = _as_1d(y, Z.shape[0], "y")
        if Z.shape[0] < 2:
            raise ValueError(f"Z: need at least 2 samples to fit, got {Z.shape[0]}")
        self.Z_, self.y_ = Z, y
        with single_thread():
            self._fit_members()
        return self

    def update(self, Z_new: Any, y_new: Any) -> "EfficiencyPredictor":
        """Append ``(Z_new, y_new)`` to the data and refit on everything (Algorithm 1)."""
        Z_new = _as_2d(Z_new, "Z_new")
        y_new = _as_1d(y_new, Z_new.shape[0], "y_new")
        if not hasattr(self, "Z_"):
            return self.fit(Z_new, y_new)
        if Z_new.shape[1] != self.Z_.shape[1]:
            raise ValueError(f"Z_new: expected {self.Z_.shape[1]} features, got {Z_new.shape[1]}")
        return self.fit(np.concatenate([self.Z_, Z_new]), np.concatenate([self.y_, y_new]))

    def _fit_members(self) -> None:
        Z, y = self.Z_, self.y_
        n, d = Z.shape
        self.n_features_in_ = d
        self.z_mean_ = Z.mean(0)
        self.z_std_ = Z.std(0)
        self.z_std_[self.z_std_ < 1e-12] = 1.0
        self.y_mean_ = float(y.mean())
        self.constant_ = bool(y.std() <= 1e-12)
        self.y_std_ = 1.0 if self.constant_ else float(y.std())
        dev = resolve_device(self.device)
        Zt = torch.as_tensor((Z - self.z_mean_) / self.z_std_, dtype=torch.float32, device=dev)
        yt = torch.as_tensor((y - self.y_mean_) / self.y_std_, dtype=torch.float32, device=dev)
        rng = np.random.default_rng(self.seed)
        self.members_ = []
        self.epochs_ = []
        for m in range(self.n_members):
            n_val = int(round(n * float(self.val_fraction))) if n >= 10 else 0
            n_val = max(n_val, 2) if n >= 10 and self.val_fraction > 0 else n_val
            perm = rng.permutation(n)
            va, tr = perm[:n_val], perm[n_val:]
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(rng.integers(0, 2**31)))
                net = nn.Sequential(nn.Linear(d, self.hidden), nn.ReLU(), nn.Linear(self.hidden, 1)).to(dev)
            opt = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
            tr_t = torch.as_tensor(tr, device=dev)
            va_t = torch.as_tensor(va, device=dev)
            best, best_state, best_ep, bad = float("inf"), None, 0, 0
            for ep in range(1, int(self.max_epochs) + 1):
                net.train()
                loss = torch.mean((net(Zt[tr_t]).squeeze(1) - yt[tr_t]) ** 2)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if n_val:
                    with torch.no_grad():
                        v = float(torch.mean((net(Zt[va_t]).squeeze(1) - yt[va_t]) ** 2))
                    if v < best - 1e-7:
                        best, best_state, best_ep, bad = v, copy.deepcopy(net.state_dict()), ep, 0
                    else:
                        bad += 1
                        if bad >= self.patience:
                            break
            if best_state is not None:
                net.load_state_dict(best_state)
            else:
                best_ep = ep
            net.eval()
            self.members_.append(net)
            self.epochs_.append(best_ep)

    # ------------------------------------------------------------------ prediction
    @torch.no_grad()
    def predict(self, Z: Any, return_std: bool = False, batch_size: int = 65_536) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Predicted scores for ``Z`` (m, d): ensemble mean (m,), and std (m,) if asked."""
        if not hasattr(self, "members_"):
            raise RuntimeError("EfficiencyPredictor: call fit() before predict()")
        is_t = isinstance(Z, torch.Tensor)
        if is_t:
            Zt = Z.detach().float()
            if Zt.dim() != 2:
                raise ValueError(f"Z: expected a 2-D array (n_samples, n_features), got shape {tuple(Zt.shape)}")
            if not torch.isfinite(Zt).all():
                raise ValueError("Z: contains NaN or inf")
        else:
            Zt = torch.as_tensor(_as_2d(Z, "Z"), dtype=torch.float32)
        if Zt.shape[1] != self.n_features_in_:
            raise ValueError(f"Z: expected {self.n_features_in_} features, got {Zt.shape[1]}")
        dev = next(self.members_[0].parameters()).device
        mean = torch.as_tensor(self.z_mean_, dtype=torch.float32, device=dev)
        std = torch.as_tensor(self.z_std_, dtype=torch.float32, device=dev)
        preds = []
        with single_thread():
            for s in range(0, Zt.shape[0], batch_size):
                x = (Zt[s : s + batch_size].to(dev) - mean) / std
                preds.append(torch.stack([m(x).squeeze(1) for m in self.members_]).cpu())
        P = torch.cat(preds, dim=1).double().numpy() if preds else np.zeros((len(self.members_), 0))
        if self.constant_:
            P = np.zeros_like(P)  # constant training targets: predict that constant exactly
        P = P * self.y_std_ + self.y_mean_
        mu = P.mean(0)
        if return_std:
            return mu, P.std(0)
        return mu

    def score(self, Z: Any, y: Any) -> float:
        """Coefficient of determination R^2 of the predictions (scikit-learn convention)."""
        from sklearn.metrics import r2_score

        Z = _as_2d(Z, "Z")
        return float(r2_score(_as_1d(y, Z.shape[0], "y"), self.predict(Z)))

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        """Parameters, data and fitted weights as plain tensors / lists (``weights_only`` safe)."""
        if not hasattr(self, "members_"):
            raise RuntimeError("EfficiencyPredictor: nothing to save before fit()")
        return {
            "params": {k: getattr(self, k) for k in ("hidden", "n_members", "max_epochs", "patience",
                                                     "val_fraction", "lr", "weight_decay", "seed")},
            "Z": torch.as_tensor(self.Z_), "y": torch.as_tensor(self.y_),
            "z_mean": torch.as_tensor(self.z_mean_), "z_std": torch.as_tensor(self.z_std_),
            "y_mean": self.y_mean_, "y_std": self.y_std_, "epochs": list(self.epochs_),
            "members": [{k: v.cpu() for k, v in m.state_dict().items()} for m in self.members_],
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any], device: str | torch.device = "cpu") -> "EfficiencyPredictor":
        """Rebuild a fitted predictor from :meth:`state_dict`."""
        self = cls(**state["params"], device=device)
        self.Z_, self.y_ = state["Z"].double().numpy(), state["y"].double().numpy()
        self.z_mean_, self.z_std_ = state["z_mean"].double().numpy(), state["z_std"].double().numpy()
        self.y_mean_, self.y_std_ = float(state["y_mean"]), float(state["y_std"])
        self.constant_ = bool(self.y_.std() <= 1e-12)
        self.n_features_in_ = self.Z_.shape[1]
        self.epochs_ = list(state["epochs"])
        dev = resolve_device(device)
        self.members_ = []
        for sd in state["members"]:
            net = nn.Sequential(nn.Linear(self.n_features_in_, self.hidden), nn.ReLU(), nn.Linear(self.hidden, 1))
            net.load_state_dict(sd)
            self.members_.append(net.to(dev).eval())
        return self
