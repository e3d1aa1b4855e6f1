"""Passages -> vectors, FAISS and BM25 -> search hits.

The one place that loads the embedding model (`index.embedder`), builds and persists the index with
its manifest (`index.store`), and ranks passages (`index.search`, pure functions over vectors and
scores, testable with hand-made 3-d vectors). Nothing here knows about policy, answers or the web.
Heavy libraries (torch, sentence-transformers, faiss) are imported on first use, not at import.
"""
