"""Emulator tests; fixtures come from rtcsnap's pytest plugin (rtcsnap.testing)."""
