-- `pdf_uploading` is no longer a booking state: nothing has written it for a long time, but a row an older version
-- left may still hold it. Such an invoice is in SnelStart with its PDF perhaps still to go, which is what `booked`
-- says: the next run looks for the booking's document before it uploads one.
UPDATE bookings SET state = 'booked' WHERE state = 'pdf_uploading';
