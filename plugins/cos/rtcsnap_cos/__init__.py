"""rtcsnap storage provider for cos (being built: issue 8)."""
