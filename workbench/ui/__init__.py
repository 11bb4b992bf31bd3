"""The browser workbench: a thin Gradio shell over the library, one module per tab.

:mod:`.app` builds the Blocks (``build_ui``) and its launch options; :mod:`.context` holds what every tab
shares (the app context, conversions, errors, background runs); :mod:`.uploads` checks files from outside.
"""

from workbench.ui.app import build_ui, launch_options

__all__ = ["build_ui", "launch_options"]
