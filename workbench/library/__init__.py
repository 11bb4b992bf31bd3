"""Prompt libraries: TOML prompt files to validated, frozen prompts; templates and their matrices."""
