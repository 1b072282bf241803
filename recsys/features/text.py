"""Text features of questions: character n-gram TF-IDF reduced with SVD (Korean has no spaces to trust)."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from recsys.catalog.bank import QuestionBank

TEXT_DIMENSIONS = 12


def text_embeddings(bank: QuestionBank, *, dimensions: int = TEXT_DIMENSIONS) -> np.ndarray:
    """(Q, dimensions) unit-length embeddings of the questions' default wording; deterministic."""
    texts = [bank[i].text for i in range(len(bank))]
    tfidf = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), min_df=2, sublinear_tf=True).fit_transform(texts)
    reduced = TruncatedSVD(n_components=dimensions, random_state=0).fit_transform(tfidf)
    norms = np.linalg.norm(reduced, axis=1, keepdims=True)
    return (reduced / np.where(norms == 0, 1.0, norms)).astype(np.float32)
