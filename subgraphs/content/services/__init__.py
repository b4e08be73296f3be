"""Business logic of the content subgraph: media, uploads, staging and the object store."""
