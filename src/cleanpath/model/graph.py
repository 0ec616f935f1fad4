"""The element graph: integer-coded elements and one sparse matrix per link kind.

Built once per snapshot (``Network.graph()`` caches it) and shared by every graph question. All
arrays are indexed by element position ``0..n-1`` in ``Network.elements`` order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cleanpath.model.schema import DOMAINS, LINK_KINDS, ROLES


@dataclass
class ElementGraph:
    """Sparse, typed adjacency of a network's elements.

    Attributes
    ----------
    element_ids
        Element ids in position order.
    site
        Position of each element's site in ``Network.sites``.
    role, domain
        Codes into :data:`ROLES` and :data:`DOMAINS`.
    vendor_codes, vendors
        Codes into the ``vendors`` array of distinct vendor ids.
    in_service
        Boolean mask.
    adjacency
        Per link kind, an ``n x n`` CSR matrix of link multiplicities. ``transport`` is symmetric;
        the others point from the dependent element (a) to the one it depends on (b).
    link_a, link_b, link_kind
        Endpoint positions and kind code of every link, in ``Network.links`` order.
    """

    element_ids: pd.Index
    site: np.ndarray
    role: np.ndarray
    domain: np.ndarray
    vendor_codes: np.ndarray
    vendors: np.ndarray
    in_service: np.ndarray
    adjacency: dict[str, sp.csr_matrix]
    link_a: np.ndarray
    link_b: np.ndarray
    link_kind: np.ndarray

    @property
    def n(self) -> int:
        return len(self.element_ids)

    @classmethod
    def build(cls, net) -> "ElementGraph":
        """Build the graph of a :class:`~cleanpath.model.network.Network` (vectorised)."""
        el = net.elements
        ids = pd.Index(el["element_id"].to_numpy(dtype=object))
        n = len(ids)
        site = pd.Index(net.sites["site_id"].to_numpy(dtype=object)).get_indexer(
            el["site_id"].to_numpy(dtype=object))
        role = pd.Categorical(el["role"].to_numpy(dtype=object), categories=ROLES).codes.astype(np.int16)
        role_domain = np.array([DOMAINS.index(r.split(".")[0]) for r in ROLES], dtype=np.int8)
        domain = np.where(role >= 0, role_domain[np.maximum(role, 0)], -1).astype(np.int8)
        vcodes, vendors = pd.factorize(el["vendor"].to_numpy(dtype=object))
        in_service = el["in_service"].to_numpy(dtype=bool, na_value=True)
        links = net.links
        a = ids.get_indexer(links["a"].to_numpy(dtype=object))
        b = ids.get_indexer(links["b"].to_numpy(dtype=object))
        kind = pd.Categorical(links["kind"].to_numpy(dtype=object), categories=LINK_KINDS).codes.astype(np.int8)
        adjacency = {}
        for k, name in enumerate(LINK_KINDS):
            m = kind == k
            ra, rb = a[m], b[m]
            if name == "transport":
                ra, rb = np.concatenate([ra, rb]), np.concatenate([rb, ra])
            adjacency[name] = sp.csr_matrix((np.ones(len(ra), dtype=np.int32), (ra, rb)), shape=(n, n))
        return cls(ids, site.astype(np.int64), role, domain, vcodes.astype(np.int32),
                   np.asarray(vendors, dtype=object), in_service, adjacency, a, b, kind)

    def positions(self, element_ids) -> np.ndarray:
        """Positions of the given element ids (-1 where unknown)."""
        return self.element_ids.get_indexer(pd.Index(list(element_ids), dtype=object))

    def vendor_mask(self, vendor_ids) -> np.ndarray:
        """Elements whose vendor is one of ``vendor_ids``."""
        wanted = np.isin(self.vendors, np.asarray(list(vendor_ids), dtype=object))
        return wanted[self.vendor_codes] if len(wanted) else np.zeros(self.n, dtype=bool)

    def components(self, keep: np.ndarray | None = None) -> tuple[int, np.ndarray]:
        """Connected components of the transport graph among the ``keep`` elements.

        Returns
        -------
        count, labels
            Number of components and each element's label (-1 for elements not kept).
        """
        from scipy.sparse.csgraph import connected_components

        adj = self.adjacency["transport"]
        if keep is not None:
            d = sp.diags(keep.astype(np.int8))
            adj = (d @ adj @ d).tocsr()
        count, labels = connected_components(adj, directed=False)
        if keep is not None:
            labels = np.where(keep, labels, -1)
        return count, labels
