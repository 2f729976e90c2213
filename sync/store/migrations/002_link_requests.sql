-- The activation flow's webhook delivers the koppelsleutel before the user has confirmed the link in the console:
-- it waits here, encrypted (sync.core.vault), on the link request it answers, with the administration it opens.
-- `received_at` set and `used_at` empty: received, waiting for the user's "Opslaan".

ALTER TABLE link_requests ADD COLUMN key_enc VARCHAR;
ALTER TABLE link_requests ADD COLUMN administration_id VARCHAR;
ALTER TABLE link_requests ADD COLUMN administration_name VARCHAR;
ALTER TABLE link_requests ADD COLUMN action VARCHAR;
ALTER TABLE link_requests ADD COLUMN received_at TIMESTAMPTZ;
