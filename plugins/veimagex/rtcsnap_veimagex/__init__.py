"""rtcsnap storage provider for Volcengine veImageX (StorageConfig Type 3)."""
