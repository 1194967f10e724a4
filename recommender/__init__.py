"""Related articles, search and stories over the store: embeddings (embed.py), FAISS index (index.py),
ranking (related.py), stories (stories.py), one service for every caller (service.py)."""
