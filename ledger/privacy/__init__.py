"""Personal data: commitments in signed bytes, a per-subject encrypted vault, a keyed
index, erasure that keeps every proof valid, and an access log (docs/privacy.md)."""
