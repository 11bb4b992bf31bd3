"""The workbench's error types: every mistake a user can make maps to one of these, with one clear line."""

from __future__ import annotations

from collections.abc import Callable


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


class FieldError(ParamsError, DraftError):
    """One bad input field: ``str()`` names fields as prompt files do; :meth:`say` names them as a shell does.

    Attributes:
        field: The field, by its prompt-file name (``melody_end``).
        problem: What is wrong, with ``{}`` where each of ``mentions`` (other fields) is named.
        mentions: Other fields the problem names.
        whole: The problem is a sentence of its own that names what is wrong ("segment 2 starts at..."): it is said
            without the field's name before it.
    """

    def __init__(self, field: str, problem: str, *mentions: str, whole: bool = False) -> None:
        self.field, self.problem, self.mentions, self.whole = field, problem, mentions, whole
        super().__init__(self.say(str))

    @classmethod
    def plain(cls, field: str, text: str, *, whole: bool = False) -> FieldError:
        """A problem given as plain text (another rule's message): mentions no other field, braces kept."""
        return cls(field, text.replace("{", "{{").replace("}", "}}"), whole=whole)

    def detail(self, name: Callable[[str], str] = str) -> str:
        """What is wrong, the other fields it mentions named by ``name``, without the field itself."""
        return self.problem.format(*(name(m) for m in self.mentions)).removeprefix(": ")

    def say(self, name: Callable[[str], str]) -> str:
        """The message with every field named by ``name`` (e.g. ``workbench.core.fields.flag_name``)."""
        if self.whole:
            return self.detail(name)
        return f"{name(self.field)}{':' if self.problem.startswith(':') else ''} {self.detail(name)}"


class FieldErrors(FieldError):
    """Several bad fields at once (a prompt file reports them all); it reads as its first."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(first.field, first.problem, *first.mentions, whole=first.whole)


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
