"""Rendering: prompts and seed sweeps, prompt libraries (locally or on Ray), token files, reproduce."""
