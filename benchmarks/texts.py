"""The prompt the CPU benchmarks render (a module of its own: the plain script imports it without the workbench)."""

TEXT = "80s synthwave, night drive, pulsing bass arpeggio, gated drums, 110 BPM"
