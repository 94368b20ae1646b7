"""The ``rtcsnap`` command line: parse, call a service, render. No logic of its own."""

from rtcsnap.cli.app import app, main

__all__ = ["app", "main"]
