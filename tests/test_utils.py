"""gemgraph.utils: the shared int check, the one LR schedule, the one seed derivation."""
from __future__ import annotations

import math

import numpy as np
import pytest

from gemgraph.utils import check_int, derive_seed, warmup_cosine


def test_check_int_messages():
    assert check_int(np.int64(3), "n", 1) == 3 and type(check_int(np.int64(3), "n")) is int
    with pytest.raises(ValueError, match=r"^n: expected an int >= 1, got 0$"):
        check_int(0, "n", 1)
    with pytest.raises(ValueError, match=r"^n: expected an int >= 1, got 2\.5$"):
        check_int(2.5, "n", 1)
    for bad in (True, np.bool_(True), "3", None):
        with pytest.raises(ValueError, match=r"^width: expected an int, got"):
            check_int(bad, "width")


def test_the_int_check_is_shared():
    """The copies that stood beside check_int now call it: same message everywhere."""
    from gemgraph import SearchSpace
    from gemgraph.encoders import create
    from gemgraph.nn import CifarNet
    from gemgraph.stats import mean_ci

    with pytest.raises(ValueError, match=r"num_nodes: expected an int >= 2, got 1\.0"):
        SearchSpace(1.0)
    with pytest.raises(ValueError, match=r"dim: expected an int >= 1, got 0"):
        create("mlp", num_nodes=5, dim=0)
    with pytest.raises(ValueError, match=r"width: expected an int >= 1, got True"):
        CifarNet(SearchSpace(5).sample(1)[0], width=True)
    with pytest.raises(ValueError, match=r"n_resamples: expected an int >= 100, got 10"):
        mean_ci(np.arange(5.0), n_resamples=10)


def _old_proxy_schedule(total, warmup=0.15):  # gemgraph.evaluate before the dedup, verbatim
    warm = max(1, int(warmup * total))

    def factor(step):
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warm) / max(1, total - warm))))

    return factor


def _old_onecycle(step, total, warmup=0.05):  # gemgraph.embedding before the dedup, verbatim
    w = max(1, int(round(warmup * total)))
    if step < w:
        return 1.0 / 25 + (1.0 - 1.0 / 25) * step / w
    p = min(1.0, (step - w) / max(1, total - w))
    return 0.5 * (1.0 + math.cos(math.pi * p))


@pytest.mark.parametrize("total", [1, 2, 7, 40, 333, 1000])
def test_one_schedule_gives_both_old_schedules_bit_for_bit(total):
    from gemgraph.embedding import _onecycle
    from gemgraph.evaluate import _warmup_cosine

    proxy = _warmup_cosine(total)
    ref = _old_proxy_schedule(total)
    for s in range(total + 3):
        assert proxy(s) == ref(s)
        assert _onecycle(s, total) == _old_onecycle(s, total)
    assert warmup_cosine(0, 10, 2, start=0.5) == 0.5 and warmup_cosine(10, 10, 2) == 0.0


def test_derive_seed_values_are_pinned():
    # the search's stream: pinned values (unchanged by the merge of the two helpers)
    assert derive_seed(0, "bootstrap") == 4087917743568796573
    assert derive_seed(7, 3) == 449877538296689757
    assert derive_seed(2**40, "x", 5) == 1375268687809107792


def test_the_ablation_has_no_seed_helper_of_its_own():
    import inspect

    from gemgraph.ablation import pipeline, runner

    for mod in (runner, pipeline):
        src = inspect.getsource(mod)
        assert "SeedSequence" not in src and "derive_seed(" in src


def test_check_finite():
    from gemgraph.utils import check_finite

    assert check_finite(1, "k") == 1.0 and check_finite(np.float32(0.5), "k") == 0.5
    for bad in (float("nan"), float("inf"), "1", None):
        with pytest.raises(ValueError, match="k: expected a finite float"):
            check_finite(bad, "k")
