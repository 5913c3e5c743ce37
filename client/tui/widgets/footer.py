"""``KeysFooter``: Textual's footer of key bindings, rebuilt only when the keys it shows change.

Textual's ``Footer`` removes and mounts all its keys again after each change of the screen's bindings. Starting
the main screen changes them five times (the screen pushed, the timeline focused, the tab shown), mostly to the
same keys, and each rebuild styled every key twice before the first timeline page was drawn (docs/performance.md,
tui_first_paint_s). This footer compares what it would show with what it shows and rebuilds only on a difference.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.widgets import Footer


class KeysFooter(Footer):
    _shown: Hashable = None  # what the keys on screen were built from; None until they first are

    def _wanted(self) -> Hashable:
        """Everything ``Footer.compose`` reads to build its keys."""
        app = self.app
        keys = tuple(
            (binding.key, app.get_key_display(binding), binding.action, binding.description, binding.show,
             binding.group, binding.tooltip, enabled, tooltip)
            for binding, enabled, tooltip in (value[1:] for value in self.screen.active_bindings.values())
        )  # fmt: skip
        return (self._bindings_ready, self.show_command_palette, app.ENABLE_COMMAND_PALETTE,
                app.COMMAND_PALETTE_BINDING, keys)  # fmt: skip

    async def recompose(self) -> None:
        if not self.is_attached:
            return
        wanted = self._wanted()
        if wanted == self._shown:
            return
        await super().recompose()
        self._shown = wanted
