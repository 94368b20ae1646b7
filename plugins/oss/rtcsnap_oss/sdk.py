"""The oss2 import, once: oss2 2.19.1's api.py has an invalid ``\\&`` escape in a docstring,
which compiled without a .pyc cache warns on import (into rtcsnap's CLI output, or a test run
that turns warnings into errors)."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", SyntaxWarning)
    import oss2
    from oss2 import exceptions
    from oss2.credentials import StaticCredentialsProvider

__all__ = ["StaticCredentialsProvider", "exceptions", "oss2"]
