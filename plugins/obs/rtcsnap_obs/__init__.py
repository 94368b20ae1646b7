"""rtcsnap storage provider for obs (being built: issue 8)."""
