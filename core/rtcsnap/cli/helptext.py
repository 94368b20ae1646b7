"""What every command's ``--help`` shares: an ``Examples:`` block, and — for the commands that
take a TARGET — each installed provider's URL form and credential sources, read from the
providers themselves (`Provider.help_target`, `Provider.help_credentials`, `TargetField.env`) when
the help is shown, so a third-party plugin's scheme appears like a bundled one.
"""

from __future__ import annotations

import click

CREDENTIAL_ORDER = (
    "Storage keys: {options} (or RTCSNAP_ACCESS_KEY/RTCSNAP_SECRET_KEY) win; then, for @NAME, its "
    "config reference (write = the key RTC is given, read = the key that lists and downloads); else "
    "the provider's own sources listed above."
)
OPENAPI_CREDENTIALS = (
    "OpenAPI credentials: the --profile account's reference (env vars or a ~/.volc/credentials "
    "section), else VOLC_ACCESSKEY/VOLC_SECRETKEY (+ VOLC_SESSION_TOKEN), else ~/.volc/credentials "
    "[default]. Options (or their env vars) win over the profile, the profile over the defaults."
)


def examples(*lines: str, note: str = "") -> str:
    """An epilog: ``Examples:`` and `lines` exactly as written (click's ``\\b`` keeps them
    unwrapped), then an optional `note` paragraph."""
    body = "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)
    return f"{body}\n\n{note}" if note else body


def write_targets(formatter: click.HelpFormatter, key_options: str = "--access-key/--secret-key") -> None:
    """The TARGET section: one entry per installed provider, then where storage keys come from
    (`key_options`: the command's own key options)."""
    from rtcsnap.cli.app import manager

    with formatter.section("TARGET: a URL, or @NAME from the config file (rtcsnap config path)"):
        for entry in manager().entries():
            provider = entry.provider
            # written as is: textwrap would break a URL at its hyphens
            formatter.write(f"{'':>{formatter.current_indent}}{provider.help_target()}\n")
            with formatter.indentation(), formatter.indentation():
                formatter.write_text(f"credentials: {provider.help_credentials()}")
                for name, spec in provider.fields.items():
                    if spec.env:
                        kind = "secret, never in the URL: " if spec.secret else f"?{name}= or "
                        formatter.write_text(f"{name}: {kind}{spec.env}")
        formatter.write_paragraph()
        formatter.write_text(CREDENTIAL_ORDER.format(options=key_options))


class TargetCommand(click.Command):
    """A command that takes a TARGET: its help ends with the installed providers' URL forms."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        keys = [
            p.opts[0]
            for env in ("RTCSNAP_ACCESS_KEY", "RTCSNAP_SECRET_KEY")
            for p in self.params
            if isinstance(p, click.Option) and p.envvar == env
        ]
        write_targets(formatter, "/".join(keys) or "--access-key/--secret-key")


__all__ = ["CREDENTIAL_ORDER", "OPENAPI_CREDENTIALS", "TargetCommand", "examples", "write_targets"]
