"""Frequently bought together: association rules mined from orders by FP-growth (mlxtend)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.base import History, Recommender
from recommender.interactions import InteractionMatrix

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    """`antecedent` in an order makes `consequent` likely: support, confidence and lift of the pair."""

    antecedent: str
    consequent: str
    support: float
    confidence: float
    lift: float


class AssociationRules(Recommender):
    """Item -> item rules with lift above 1; a user's score for an item sums the rules from their items.

    Baskets are orders (the matrix's `baskets`); without order ids each user's purchases are one basket.
    """

    name = "association"

    def __init__(self, min_support: float = 0.005, min_confidence: float = 0.05, max_items: int = 2000) -> None:
        self.min_support, self.min_confidence, self.max_items = min_support, min_confidence, max_items

    def fit(self, data: InteractionMatrix) -> AssociationRules:
        super().fit(data)
        n_items = len(data.items)
        self.confidence = sp.csr_matrix((n_items, n_items), dtype=np.float32)
        self.lift = sp.csr_matrix((n_items, n_items), dtype=np.float32)
        self.support = sp.csr_matrix((n_items, n_items), dtype=np.float32)
        baskets = data.baskets or self._purchases_per_user(data)
        if not baskets:
            log.info("no baskets with two or more items: no association rules")
            return self
        self._mine(baskets, n_items)
        return self

    @staticmethod
    def _purchases_per_user(data: InteractionMatrix) -> list[list[int]]:
        assert data.purchased is not None
        bought = data.purchased.tocsr()
        rows = (bought.indices[bought.indptr[r] : bought.indptr[r + 1]] for r in range(bought.shape[0]))
        return [sorted(row.tolist()) for row in rows if len(row) > 1]

    def _mine(self, baskets: list[list[int]], n_items: int) -> None:
        import pandas as pd
        from mlxtend.frequent_patterns import association_rules, fpgrowth

        counts = np.bincount(np.concatenate([np.asarray(b) for b in baskets]), minlength=n_items)
        minimum = self.min_support * len(baskets)
        frequent = np.flatnonzero(counts >= minimum)
        frequent = frequent[np.argsort(-counts[frequent], kind="stable")][: self.max_items]
        if len(frequent) < 2:
            return
        position = {int(c): i for i, c in enumerate(frequent)}
        rows, cols = [], []
        for b, basket in enumerate(baskets):
            for column in basket:
                if column in position:
                    rows.append(b)
                    cols.append(position[column])
        onehot = sp.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(len(baskets), len(frequent)))
        table = pd.DataFrame.sparse.from_spmatrix(onehot, columns=[str(c) for c in frequent]).astype(
            pd.SparseDtype(bool, False)
        )
        itemsets = fpgrowth(table, min_support=self.min_support, use_colnames=True, max_len=2)
        if not (itemsets["itemsets"].map(len) == 2).any():
            return
        rules = association_rules(
            itemsets, num_itemsets=len(baskets), metric="confidence", min_threshold=self.min_confidence
        )
        rules = rules[rules["lift"] > 1.0]
        antecedents = [int(next(iter(a))) for a in rules["antecedents"]]  # column names are the item columns
        consequents = [int(next(iter(c))) for c in rules["consequents"]]
        shape = (n_items, n_items)
        for name in ("confidence", "lift", "support"):
            values = rules[name].to_numpy(dtype=np.float32)
            setattr(self, name, sp.csr_matrix((values, (antecedents, consequents)), shape=shape))
        log.info("%d association rules from %d baskets", len(rules), len(baskets))

    def scores(self, history: History) -> np.ndarray:
        if history.empty:
            return np.zeros(len(self.data.items), dtype=np.float32)
        present = sp.csr_matrix(
            (np.ones(len(history.columns), dtype=np.float32), ([0] * len(history.columns), history.columns)),
            shape=(1, len(self.data.items)),
        )
        return np.asarray((present @ self.confidence).todense()).ravel()

    def rules_from(self, item: str, k: int = 10) -> list[Rule]:
        """The strongest rules "bought `item` -> also bought X", by confidence then lift."""
        column = self.data.item_index.get(item)
        if column is None:
            return []
        row = self.confidence[column]
        order = sorted(
            zip(row.indices.tolist(), row.data.tolist(), strict=True),
            key=lambda pair: (-pair[1], -float(self.lift[column, pair[0]])),
        )[:k]
        return [
            Rule(item, self.data.items[c], float(self.support[column, c]), conf, float(self.lift[column, c]))
            for c, conf in order
        ]

    def similar_items(self, item: str, k: int = 10) -> list[tuple[str, float]]:
        return [(rule.consequent, rule.confidence) for rule in self.rules_from(item, k)]

    def explain(self, user: str | None, item: str, session: Sequence[str] = ()) -> str:
        column = self.data.item_index.get(item)
        history = self.history(user, session)
        if column is None or history.empty:
            return "often bought together"
        affinity = self.confidence[:, column].toarray().ravel()
        columns = history.columns
        best = int(columns[int(np.argmax(affinity[columns]))])
        if affinity[best] <= 0:
            return "often bought together"
        return f"often bought together with {self.data.title(best)} ({affinity[best]:.0%} of its orders)"
