"""Demo support: seeded synthetic data for the Bergamo referral-to-hire walkthrough."""
