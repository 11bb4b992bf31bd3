"""The bottom layer: errors, generation parameters, audio files and DSP, atomic writes, hashes, slugs."""
