"""Finding, parsing, validating and layering `[artifacts ...]` sections."""
