"""The content subgraph: media objects, resumable (tus) uploads and their storage."""
