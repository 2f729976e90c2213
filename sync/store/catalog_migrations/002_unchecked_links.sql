-- Links nobody has asked SnelStart about yet (health 'unknown': seeded, restored, or from before health was kept).
-- Counted apart so the support overview never shows them as fine. Rows written before this read 0 until the
-- account's next run, check or link change rewrites them.
ALTER TABLE account_health ADD COLUMN unchecked_links INTEGER DEFAULT 0;
