-- Right records: a person can pin a Gripp company to a SnelStart relatie (beside the VAT and ledger mappings);
-- a booking found by invoice number that does not fit the invoice waits as a conflict, with the booking it found;
-- a payment the link registered in Gripp is reversed when SnelStart's paid amount drops below it (storno).

CREATE TABLE customer_mappings (
    identity_id  INTEGER NOT NULL,
    company_id   INTEGER NOT NULL,
    gripp_label  VARCHAR NOT NULL,
    relatie_id   VARCHAR NOT NULL,
    relatiecode  INTEGER,
    relatie_name VARCHAR,
    updated_at   TIMESTAMPTZ NOT NULL,
    updated_by   VARCHAR NOT NULL,
    PRIMARY KEY (identity_id, company_id)
);

-- bookings.state may now also be 'conflict' (a booking with this number that is not this invoice's) and
-- 'nothing_to_book' (an invoice of 0,00).
ALTER TABLE bookings ADD COLUMN conflict_booking_id VARCHAR;   -- the SnelStart booking a conflict is about
ALTER TABLE bookings ADD COLUMN adopted_by VARCHAR;            -- the person who adopted a conflict anyway

-- payments_applied.state: sending -> done -> reversing -> reversed (and back to sending when paid again).
ALTER TABLE payments_applied ADD COLUMN reversed_at TIMESTAMPTZ;
