"""Tests of the rtcsnap-moderation plugin (plugins/moderation): detectors, rules, verdicts."""
