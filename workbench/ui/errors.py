"""Errors in the browser: every handler's failure becomes one line in the app's words (uploads by their file name,
fields by the labels the page shows, no command-line options), one line in the server's log for an expected error
and a traceback only for an unexpected one."""

from __future__ import annotations

import functools
import html
import inspect
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from workbench.core.errors import WorkbenchError
from workbench.ui.conditions import FIELD_LABELS, label

log = logging.getLogger("workbench")

#: An upload's temporary copy (``/tmp/gradio/<hash>/song.wav``): messages name the file, not where gradio keeps it.
_UPLOAD_PATH = re.compile(r"""(?:[A-Za-z]:)?[/\\][^\s'"]*?[/\\]gradio[/\\][0-9a-f]{16,}[/\\]([^\s'"/\\]+)""")
#: The history's database file (``/…/out/history.sqlite``): the browser calls it the history.
_HISTORY_FILE = re.compile(r"""(?:[A-Za-z]:)?[/\\][^\s'"]*history\.sqlite""")
#: Command-line wording that library messages use, as the browser says it.
_CLI_WORDS = {"use --model tiny": "choose the model “tiny”", "--model tiny": "the model “tiny”",
              "; pass --force to overwrite it": "", "pass --force to overwrite it": "",
              "--below-rating N, --older-than AGE": "a rating below and an age",
              "; see 'workbench history'": " (see the History tab)",
              "--below-rating": "“below rating”", "--older-than": "“older than”", "--unrated": "“unrated”"}
_FLAG = re.compile(r"--([a-z][a-z0-9-]*)")


def ui_words(message: str) -> str:
    """A library message as the browser says it: its first line, uploads named by their file name, command-line
    options and a leading field name (``duration_s must be…``) named as the page shows them (see
    :data:`workbench.ui.conditions.FIELD_LABELS`)."""
    text = (message.splitlines() or [""])[0]
    text = _UPLOAD_PATH.sub(lambda found: found.group(1), text)
    text = _HISTORY_FILE.sub("the history", text)
    for cli, words in _CLI_WORDS.items():
        text = text.replace(cli, words)
    text = _FLAG.sub(lambda found: label(found.group(1).replace("-", "_")), text)
    field, space, rest = text.partition(" ")
    return f"{label(field)} {rest}" if space and field in FIELD_LABELS else text


def _as_gradio_error(error: Exception) -> Exception:
    """Known errors (``WorkbenchError``, bad values): their one line in the browser's words, and one line in the
    server's log. Anything else: one line naming it, and the traceback in the server's log (``workbench`` logger),
    never in the browser. Either way gradio prints no second traceback."""
    if isinstance(error, gr.Error):  # the handlers' own refusals: one log line too
        log.info("refused: %s", error.message)
        error.print_exception = False
        return error
    if isinstance(error, (WorkbenchError, ValueError)):
        text = ui_words(str(error)) or type(error).__name__
        log.info("refused: %s", text)
        return gr.Error(html.escape(text, quote=False), print_exception=False)
    log.error("unexpected error in the UI", exc_info=error)
    detail = " ".join(ui_words(str(error)).split())[:200]
    return gr.Error(html.escape(f"unexpected {type(error).__name__}{': ' + detail if detail else ''} (a bug: the "
                                "traceback is in the server's log)", quote=False), print_exception=False)


def ui_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Show every error as one ``gr.Error`` line (see :func:`_as_gradio_error`); works for generators too."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from fn(*args, **kwargs)
            except Exception as error:  # noqa: BLE001 - turned into one line here, logged when unexpected
                raise _as_gradio_error(error) from None

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - turned into one line here, logged when unexpected
            raise _as_gradio_error(error) from None

    return wrapper


__all__ = ["ui_errors", "ui_words"]
