"""The optional audiocraft backend (see docs/audiocraft.md).

:mod:`.load` builds an :class:`~.engine.AudiocraftEngine` for MAGNeT and MusicGen-Style names (``load_engine`` picks it
by the name's backend); :mod:`.builtin` builds the offline test models, :mod:`.mbd` the MultiBand Diffusion decoder,
:mod:`.rng` the forked, seeded RNG each take runs in, and :mod:`.install` is the one place that imports audiocraft.
Nothing here imports audiocraft until a model or decoder is loaded.
"""
