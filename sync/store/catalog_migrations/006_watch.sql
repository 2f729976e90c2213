-- Health that tells the truth (issue 22): setup checks that fail (an unmapped VAT rate, a missing ledger, a start
-- date in the future) count, so an account with them never reads "In orde". Rows written before this read 0 until
-- the account's next run, check or link change rewrites them.
ALTER TABLE account_health ADD COLUMN failing_checks INTEGER DEFAULT 0;
