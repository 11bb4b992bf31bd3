"""The workbench's error types: every mistake a user can make maps to one of these, with one clear line."""

from __future__ import annotations


class WorkbenchError(Exception):
    """A known problem with a clear message: what was wrong, where, and what to do.

    The CLI prints ``str(error)`` as a single line and exits 1; the UI shows it as a ``gr.Error``.
    """


class ParamsError(WorkbenchError, ValueError):
    """A generation parameter is out of range or of the wrong type."""


class ModelNotFoundError(WorkbenchError):
    """A model name, Hub id or folder cannot be resolved or loaded."""


class ModelCapabilityError(WorkbenchError):
    """The model cannot do what was asked (e.g. melody conditioning on a text-only model)."""


class AudioFileError(WorkbenchError):
    """An audio file cannot be read or written."""


class OutputExistsError(WorkbenchError):
    """An output file exists already and ``force`` was not given."""


class DraftError(WorkbenchError):
    """A draft (melody or continuation source) is missing, empty, silent, corrupt or unsupported."""


class PromptFileError(WorkbenchError):
    """A prompt library file is malformed. ``problems`` holds every problem found, one line each."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [message])
        super().__init__(message)


class ProvenanceError(WorkbenchError):
    """A sidecar or token file is unreadable, of an unknown schema version, or inconsistent."""


class CodecError(WorkbenchError):
    """Audio tokens cannot be encoded or decoded with the given codec."""


class HistoryError(WorkbenchError):
    """The take history database cannot be read or updated as asked."""


class GenerationCancelled(WorkbenchError):
    """Generation was stopped by the user before it finished; nothing was written.

    Attributes:
        steps: Decoding steps done in the pass that was stopped (set by the decoding loop).
        partial: What had been rendered when it stopped, when the engine can say: the takes cut to their whole
            frames so far (see ``workbench.engine.engine.MusicgenEngine.generate``), else empty.
        keep: Set by a renderer that can save ``partial`` (see ``workbench.render.prompt.render_prompt``): writes
            them as takes of that length and returns what was written; None when there is nothing to keep.
    """

    def __init__(self, message: str = "generation stopped", *, steps: int = 0) -> None:
        super().__init__(message)
        self.steps = steps
        self.partial: list = []
        self.keep = None
