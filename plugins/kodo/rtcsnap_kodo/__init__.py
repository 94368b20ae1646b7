"""rtcsnap storage provider for kodo (being built: issue 8)."""
