"""`rtcsnap completion bash|zsh|fish`: the shell's completion script, from click's own machinery.

Install: ``eval "$(rtcsnap completion bash)"`` in ~/.bashrc (zsh likewise in ~/.zshrc), or
``rtcsnap completion fish > ~/.config/fish/completions/rtcsnap.fish``.
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from rtcsnap.cli.app import app
from rtcsnap.cli.helptext import examples

COMPLETE_VAR = "_RTCSNAP_COMPLETE"


@app.command(
    "completion",
    epilog=examples(
        'eval "$(rtcsnap completion bash)"',
        'eval "$(rtcsnap completion zsh)"',
        "rtcsnap completion fish > ~/.config/fish/completions/rtcsnap.fish",
    ),
)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion_cmd(shell: str) -> None:
    """Print the completion script for SHELL (commands, options, choices).

    \b
    bash:  eval "$(rtcsnap completion bash)"    in ~/.bashrc
    zsh:   eval "$(rtcsnap completion zsh)"     in ~/.zshrc
    fish:  rtcsnap completion fish > ~/.config/fish/completions/rtcsnap.fish
    """
    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - click ships all three
        raise click.UsageError(f"no completion for {shell}")
    click.echo(cls(app, {}, "rtcsnap", COMPLETE_VAR).source())


__all__ = ["COMPLETE_VAR", "completion_cmd"]
