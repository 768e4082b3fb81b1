"""Pages for Confindustria and its member companies: the batch page, a company's profiles of a
batch and a vacancy's shortlist, each opened by a signed link (no accounts)."""
