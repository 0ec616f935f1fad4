"""Traffic demands as the threat questions read them: where traffic starts and where it goes.

Traffic starts where users are: at cells, in proportion to subscribers, towards gateways, IMS and
the sensitive sites themselves. A network that carries a ``demands`` table is read as it is; a
network without one gets *implied* demands, one per site with a serving radio, towards any
gateway, with a volume of its subscribers times :data:`BUSY_HOUR_MBPS` (or one unit per serving
radio where no site has a subscriber count), and a note saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cleanpath.model.schema import GATEWAY_DEMAND

#: Busy-hour traffic per subscriber (Mbit/s), as the generator uses for its demands.
BUSY_HOUR_MBPS = 0.15


@dataclass(frozen=True)
class Demands:
    """Demands with sites as positions into ``Network.sites``.

    Attributes
    ----------
    a, b
        Origin and destination site positions; ``b`` is -1 for "any gateway".
    volume
        Volume of each demand (Gbit/s; for implied demands without subscribers, serving radios).
    implied
        True when the demands were implied because the network has none.
    note
        What the demands are, for the Result (always set for implied demands).
    """

    a: np.ndarray
    b: np.ndarray
    volume: np.ndarray
    implied: bool
    note: str | None = None

    def __len__(self) -> int:
        return int(self.a.size)


#: Key of the demands in ``Network.cache``.
DEMANDS_KEY = "cleanpath.analysis.demands"


def demands_of(net, idx) -> Demands:
    """The network's demands, or implied ones when it has none (see the module docstring).

    Built once per snapshot and kept in ``Network.cache``.

    Parameters
    ----------
    net
        The network.
    idx
        Its :class:`~cleanpath.analysis.service.ServiceIndex`.
    """
    d = net.cache.get(DEMANDS_KEY)
    if d is None:
        d = _demands_of(net, idx)
        net.cache[DEMANDS_KEY] = d
    return d


def _demands_of(net, idx) -> Demands:
    dem = net.demands
    if len(dem):
        site_ix = pd.Index(net.sites["site_id"].to_numpy(dtype=object))
        a = site_ix.get_indexer(dem["a_site"].to_numpy(dtype=object)).astype(np.int64)
        bsite = dem["b_site"].to_numpy(dtype=object)
        b = site_ix.get_indexer(bsite).astype(np.int64)
        b[bsite == GATEWAY_DEMAND] = -1
        vol = dem["volume"].to_numpy(dtype="float64", na_value=0.0)
        ok = (a >= 0) & np.isfinite(vol) & (vol > 0)
        return Demands(a[ok], b[ok], vol[ok], implied=False,
                       note=f"traffic from the network's demands table ({int(ok.sum()):,} demands)")
    n_sites = len(idx.site_operator)
    radios = idx.is_radio & idx.baseline()
    n_rad = np.bincount(idx.site[radios], minlength=n_sites)
    sites = np.flatnonzero(n_rad > 0)
    subs = idx.subscribers[sites]
    if subs.sum() > 0:
        vol = subs * BUSY_HOUR_MBPS / 1000.0
        how = f"its subscribers x {BUSY_HOUR_MBPS} Mbit/s busy-hour volume"
    else:
        vol = n_rad[sites].astype(np.float64)
        how = "one unit per serving radio (no site has a subscriber count)"
    keep = vol > 0
    if not keep.any():
        return Demands(sites[keep], np.full(0, -1, dtype=np.int64), vol[keep], implied=True,
                       note="the network has no demands table and no serving radio: no traffic starts "
                            "anywhere, so there is no share to read (import cells and radios, or demands)")
    return Demands(sites[keep], np.full(int(keep.sum()), -1, dtype=np.int64), vol[keep], implied=True,
                   note=("the network has no demands table; traffic is implied: every site with a serving "
                         f"radio ({int(keep.sum()):,} sites) sends {how} to its operator's gateways"))
