"""The social subgraph: follows, posts, feeds, circles, conversations, realtime, notifications."""
