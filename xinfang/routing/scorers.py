"""The routing classifier's three linear scorers (SVM, NB-SVM, complement NB) and their calibration.

Part of the classifier (classifier.py holds the model and how they are combined).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from xinfang.routing.features import (
    Config,
    Featurizer,
)

# ----------------------------------------------------------------------------- scorers


@dataclass
class LinearScorer:
    """Class scores = X @ weights.T + bias over one feature group."""

    group: str
    weights: np.ndarray  # (n_features, n_labels) float32, one contiguous row per feature
    bias: np.ndarray  # (n_labels,)
    weight: float = 1.0  # of this member's standardised scores in the ensemble sum

    def scores(self, x: sp.csr_matrix) -> np.ndarray:
        """Scores of many rows."""
        return np.asarray(x @ self.weights, dtype=np.float64) + self.bias


def fit_svm(x: sp.csr_matrix, y: np.ndarray, c: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest linear SVM weights and biases."""
    from sklearn.svm import LinearSVC

    model = LinearSVC(C=c, random_state=seed).fit(x, y)
    if model.coef_.shape[0] == 1:  # two classes: one decision function, for the second class
        return np.vstack([-model.coef_, model.coef_]), np.r_[-model.intercept_, model.intercept_]
    return model.coef_, model.intercept_


def fit_nbsvm(
    x: sp.csr_matrix, y: np.ndarray, n_labels: int, c: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """NB-SVM: per class, scale features by the log-count ratio and fit a binary SVM."""
    from sklearn.svm import LinearSVC

    present = (x > 0).astype(np.float64).tocsr()
    weights, biases = np.zeros((n_labels, x.shape[1])), np.zeros(n_labels)
    for k in range(n_labels):
        pos = np.asarray(present[y == k].sum(axis=0)).ravel() + 1.0
        neg = np.asarray(present[y != k].sum(axis=0)).ravel() + 1.0
        ratio = np.log((pos / pos.sum()) / (neg / neg.sum()))
        svm = LinearSVC(C=c, random_state=seed).fit(x.multiply(ratio).tocsr(), (y == k).astype(int))
        weights[k], biases[k] = svm.coef_[0] * ratio, svm.intercept_[0]
    return weights, biases


def fit_complement_nb(
    x: sp.csr_matrix, y: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Complement naive Bayes log-weights (its joint log-likelihood is linear in x)."""
    from sklearn.naive_bayes import ComplementNB

    model = ComplementNB(alpha=alpha).fit(x, y)
    return model.feature_log_prob_, np.zeros(model.feature_log_prob_.shape[0])


def title_scale(n_title: int, n_total: int, title_weight: float) -> np.ndarray:
    """Per-column factors of a group matrix: title_weight on the title block, 1 on the content."""
    scale = np.ones(n_total)
    scale[:n_title] = title_weight
    return scale


def fit_scorers(
    featurizer: Featurizer, docs: list, y: np.ndarray, n_labels: int, config: Config
) -> list[LinearScorer]:
    """Fit the three members of the ensemble on `docs` as `featurizer` sees them.

    The SVMs see the character matrix with its title columns scaled by title_weight; the
    scale is folded into their weights, so prediction uses the unscaled TF-IDF vectors.
    """
    matrices = featurizer.matrices(docs)
    scale = title_scale(
        len(featurizer.title_chars.idf), matrices["char"].shape[1], config.title_weight
    )
    chars = (matrices["char"] @ sp.diags(scale)).tocsr()
    members = [
        ("char", fit_svm(chars, y, config.svm_c, config.seed), scale),
        ("char", fit_nbsvm(chars, y, n_labels, config.nbsvm_c, config.seed), scale),
        ("word", fit_complement_nb(matrices["word"], y, config.nb_alpha), None),
    ]
    return [
        LinearScorer(
            group,
            np.ascontiguousarray(
                np.asarray(w).T * (1.0 if s is None else s[:, None]), dtype=np.float32
            ),
            np.asarray(b, dtype=np.float64),
            float(weight),
        )
        for (group, (w, b), s), weight in zip(members, config.member_weights, strict=True)
    ]


def standardize(scores: np.ndarray) -> np.ndarray:
    """Per-row z-score over classes so that members of different scales can be summed."""
    scores = np.atleast_2d(scores)
    std = scores.std(axis=1, keepdims=True)
    return (scores - scores.mean(axis=1, keepdims=True)) / np.where(std > 0, std, 1.0)


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise softmax of scores / temperature."""
    z = np.atleast_2d(scores) / temperature
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising the log-loss of softmax(scores / T) on held-out scores."""
    from scipy.optimize import minimize_scalar

    def loss(log_t: float) -> float:
        probs = softmax(scores, float(np.exp(log_t)))
        return float(-np.mean(np.log(probs[np.arange(len(y)), y] + 1e-12)))

    return float(np.exp(minimize_scalar(loss, bounds=(-5.0, 5.0), method="bounded").x))
