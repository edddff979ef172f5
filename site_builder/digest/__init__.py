"""The email digest: its period, composition, per-person bytes, recipients, ledger, SMTP and a send run."""
