"""rtcsnap storage provider for oss (being built: issue 8)."""
