"""Credential flows: one module per way of getting an Entra ID token, plus the chain."""
