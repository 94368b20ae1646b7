"""Receiving RTC callbacks: parse, verify, store durably, index, reconcile (issue 10)."""
