-- An identity's own ceiling on an invoice's total (incl. VAT, either sign): an invoice above it is blocked until a
-- person says it is meant. NULL: the deployment's SYNC_MAX_INVOICE_TOTAL, so every link made before keeps it.
ALTER TABLE links ADD COLUMN max_invoice_total DECIMAL(18,2);
