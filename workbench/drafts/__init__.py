"""Drafts: a melody to follow (audio or MIDI to chroma) or audio / tokens to continue."""
