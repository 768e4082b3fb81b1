"""The operators' desk ("scrivania"): accounts, caseload, case sheet and forms (docs/DESK.md)."""
