"""EnCodec: codecs by name, audio to codes ``[K, T]`` and back, token files, round-trip quality.

:mod:`.codec` (the ``Codec``, ``encode``/``decode``), :mod:`.load` (codecs by name), :mod:`.tokens` (token
files, the ``Codes`` record), :mod:`.metrics` (SNR, spectral distances, a picture of the codes).
"""

from workbench.codec.codec import Codec, as_codec, codec_of, decode, encode, musicgen_codec, prepare_audio
from workbench.codec.load import CODECS, codec_ref, load_codec
from workbench.codec.metrics import quality, token_grid_image
from workbench.codec.tokens import Codes, read_tokens, token_meta, write_tokens

__all__ = ["CODECS", "Codec", "Codes", "as_codec", "codec_of", "codec_ref", "decode", "encode", "load_codec",
           "musicgen_codec", "prepare_audio", "quality", "read_tokens", "token_grid_image", "token_meta",
           "write_tokens"]
