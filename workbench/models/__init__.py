"""Model names and loading: the checkpoint registry, Hub and local folders, the built-in offline models."""
