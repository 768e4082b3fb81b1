"""The partners pages (issue 20): referral form and the status of their referrals."""
