-- One database per subgraph: each owns its schema and migrations.
CREATE DATABASE identity;
CREATE DATABASE social;
CREATE DATABASE wallet;
