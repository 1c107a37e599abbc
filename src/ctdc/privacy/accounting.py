"""OpenDP adapters and privacy accounting: the only place the privacy engine talks to OpenDP.

NOTE: pure Python + OpenDP; no Django. Every noise sample of the engine comes from the measurements built here
(OpenDP's discrete Gaussian and private quantile, with OpenDP's secure samplers); numpy never draws noise and
noise is never seeded. The conversions between zCDP's rho and (epsilon, delta) are OpenDP's own maps.

What this module knows nothing about: tables, domains, candidates. `dp.py` (the aggregate mechanism) and
`bounding.py` (contribution bound and candidates) build on it; `budget.py` uses `rho_for` to turn a requested
(epsilon, delta) into the rho a mechanism may spend.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np

from ctdc.errors import InvalidPrivacyParameter, MechanismNotVetted


class _OpenDP:
    """`opendp.prelude`, imported on first use. Importing it takes a second or more (it loads polars and
    numpy extras), and every `ctdc` process imports this package through the CLI: a server, a worker or a
    `ctdc org list` that never draws noise should not pay for it."""

    def __getattr__(self, name: str):
        import opendp.prelude

        return getattr(opendp.prelude, name)


dp = _OpenDP()


def enable_opendp() -> None:
    """OpenDP marks its Gaussian and quantile mechanisms `contrib`; we opt in once, explicitly."""
    try:
        dp.enable_features("contrib")
    except Exception as exc:  # pragma: no cover - opendp refuses only in a locked-down build
        raise MechanismNotVetted(
            "OpenDP refused to enable its 'contrib' features, which the Gaussian and quantile mechanisms need;"
            " run dp.enable_features('contrib') in an OpenDP build that allows it.",
            {"feature": "contrib"},
        ) from exc


def _gaussian(scale: float) -> dp.Measurement:
    """OpenDP discrete Gaussian on an integer count vector; sensitivity measured in float L2 distance."""
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l2_distance(T=float)
    return dp.m.make_gaussian(*space, scale=scale)


def make_gaussian_counts(sensitivity: float, rho: float) -> dp.Measurement:
    """The OpenDP Gaussian measurement adding the least noise that is `rho`-zCDP at L2 `sensitivity`.

    Privacy unit: whatever neighbouring relation makes the count vector move by at most `sensitivity` in L2.

    >>> meas = make_gaussian_counts(sensitivity=2.0, rho=0.5)
    >>> meas.map(2.0) <= 0.5
    True
    >>> len(meas([10, 20, 30]))
    3
    """
    enable_opendp()
    if rho <= 0 or sensitivity <= 0:
        raise InvalidPrivacyParameter("rho and the sensitivity must be positive.", {"rho": rho})
    # The Gaussian's zCDP loss is (sensitivity / scale)^2 / 2, so start from that scale and let OpenDP's own
    # privacy map confirm it, nudging the scale up past float rounding; a binary search (56 ms, once per
    # column at length 1) is the fallback.
    scale = float(sensitivity) / math.sqrt(2.0 * float(rho))
    for _ in range(8):
        meas = _gaussian(scale)
        if meas.map(float(sensitivity)) <= rho:
            return meas
        scale *= 1.0 + 1e-12
    scale = dp.binary_search_param(_gaussian, d_in=float(sensitivity), d_out=float(rho), T=float)
    return _gaussian(scale)


def add_noise(meas: dp.Measurement, vector: np.ndarray) -> np.ndarray:
    """`meas(vector)`, with long vectors noised in chunks on parallel threads.

    The Gaussian adds independent noise of one scale to every entry, so noising the chunks of a vector with
    the same measurement draws exactly the distribution `meas(vector)` draws, and the privacy loss is the
    measurement's own map at the whole vector's sensitivity (as accounted by the caller). OpenDP's sampler
    runs outside the GIL (ctypes call), at about 30 us a count: 300,000 length-3 candidates take 8 s on one
    core and half that on two.
    """
    values = vector.tolist()
    workers = min(os.cpu_count() or 1, 4, max(1, len(values) // 50_000))
    if workers == 1:
        return np.asarray(meas(values), dtype=np.float64)
    bounds = np.linspace(0, len(values), workers + 1).astype(int)
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(meas, [values[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]))
    return np.concatenate([np.asarray(part, dtype=np.float64) for part in parts])


def _quantile_space(p: int) -> tuple:
    return dp.vector_domain(dp.atom_domain(T=dp.i32)), dp.symmetric_distance()


def _make_quantile(p: int, alpha: float, scale: float) -> dp.Measurement:
    return dp.m.make_private_quantile(
        *_quantile_space(p), dp.zero_concentrated_divergence(), list(range(0, p + 1)), alpha, scale
    )


@lru_cache(maxsize=256)
def _quantile_scale(p: int, alpha: float, rho: float) -> float:
    # The scale depends on public parameters only (candidate count, alpha, rho): searched once per set.
    return float(dp.binary_search_param(lambda s: _make_quantile(p, alpha, s), d_in=1, d_out=rho, T=float))


def make_private_count_quantile(p: int, alpha: float, rho: float) -> dp.Measurement:
    """OpenDP's `make_private_quantile` over the integers 0..`p`, `rho`-zCDP for one record added or removed.

    >>> meas = make_private_count_quantile(10, 0.99, 0.05)
    >>> meas.map(1) <= 0.05, 0 <= meas([3] * 100) <= 10
    (True, True)
    """
    enable_opendp()
    if rho <= 0 or not 0 < alpha <= 1:
        raise InvalidPrivacyParameter("The quantile needs rho > 0 and alpha in (0, 1].", {"rho": rho})
    return _make_quantile(p, alpha, _quantile_scale(int(p), float(alpha), float(rho)))


def _probe(rho: float) -> dp.Measurement:
    """A Gaussian measurement whose privacy loss at d_in = 1 is `rho`; used to convert rho via OpenDP."""
    space = dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float)
    return dp.c.make_zCDP_to_approxDP(dp.m.make_gaussian(*space, scale=1.0 / math.sqrt(2.0 * rho)))


@lru_cache(maxsize=4096)
def epsilon_of(rho: float, delta: float) -> float:
    """The epsilon of rho-zCDP at `delta`, from OpenDP's zCDP -> approximate-DP conversion (cached: a pure
    function of public numbers, 8 ms an OpenDP call).

    >>> round(epsilon_of(0.5, 1e-6), 3)
    5.222
    """
    enable_opendp()
    return float(_probe(rho).map(1.0).epsilon(delta))


@lru_cache(maxsize=256)
def rho_for(epsilon: float, delta: float) -> float:
    """The largest rho whose zCDP guarantee converts (in OpenDP) to (`epsilon`, `delta`)-DP.

    A function of public parameters only, so it is cached (100 OpenDP conversions, about 0.25 s).

    >>> rho = rho_for(4.0, 1e-6)
    >>> epsilon_of(rho, 1e-6) <= 4.0
    True
    """
    enable_opendp()
    if not epsilon > 0 or not 0 < delta < 1:
        raise InvalidPrivacyParameter(
            "Need epsilon > 0 and 0 < delta < 1.", {"epsilon": epsilon, "delta": delta}
        )
    lo, hi = 1e-12, 1.0
    while epsilon_of(hi, delta) < epsilon:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        if epsilon_of(mid, delta) <= epsilon:
            lo = mid
        else:
            hi = mid
    return lo
