"""rtcsnap storage provider for Volcengine TOS (StorageConfig Type 0)."""
