-- Gripp enums are read by id now: real Gripp sends {id, Dutch label}, and rows cached before this version hold the
-- label where the link expected a constant (no invoice looked sent, every line looked unknown). Forget the Gripp
-- cursor so the next run reads every invoice and company again and caches them as they really are.
DELETE FROM sync_state WHERE scope = 'gripp' AND key = 'cursor';
