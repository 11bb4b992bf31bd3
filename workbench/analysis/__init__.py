"""Measurements of audio: tempo and key (:mod:`.tempo_key`), Demucs source separation (:mod:`.separate`), and
synthetic signals of known tempo and key to check them on (:mod:`.synthetic`)."""
