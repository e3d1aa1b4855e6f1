"""The knowledge base: source documents -> passages.

Knows nothing of models, FAISS, policy or the web. Everything here is plain text processing, so it
is fast, deterministic and testable without the embedding model.
"""

from kb.documents import Document, DocumentError, load_documents, DEFAULT_DOCS_DIR
from kb.passages import Passage, split_document, build_passages
from kb.sentences import split_sentences

__all__ = [
    "Document",
    "DocumentError",
    "load_documents",
    "DEFAULT_DOCS_DIR",
    "Passage",
    "split_document",
    "build_passages",
    "split_sentences",
]
