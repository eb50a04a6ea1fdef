"""Control plane: the catalogue of organisations, users, datasets, snapshots, jobs and audit."""
