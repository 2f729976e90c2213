-- What changes in Gripp after the link booked an invoice (issue 23). An invoice a complete read of Gripp no longer
-- finds is kept in gripp_invoices with status 'DELETED' (the link's own word; Gripp's invoice status has only
-- CONCEPT and SENT). A booked invoice that Gripp no longer shows as sent — deleted, or back to concept — is a row
-- here: noticed once (its event), and confirmed by a person when it was deleted on purpose (then it is no longer a
-- difference). The row goes when Gripp shows the invoice as sent again. The booking in SnelStart is never touched.
CREATE TABLE invoices_gone (
    identity_id  INTEGER NOT NULL,
    invoice_id   INTEGER NOT NULL,
    number       VARCHAR NOT NULL,
    how          VARCHAR NOT NULL,            -- deleted | not_sent: as Gripp showed it when noticed
    noticed_at   TIMESTAMPTZ NOT NULL,
    confirmed_by VARCHAR,                     -- who confirmed it was deleted on purpose
    confirmed_at TIMESTAMPTZ,
    PRIMARY KEY (identity_id, invoice_id)
);
