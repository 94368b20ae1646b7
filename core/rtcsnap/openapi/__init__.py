"""Snapshot OpenAPI: signer, error catalogue, client."""
