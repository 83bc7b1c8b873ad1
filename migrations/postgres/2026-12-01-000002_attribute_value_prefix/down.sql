-- Fails when a stored value is too large for a whole-value index entry (about 2.6 KB).
DROP INDEX attributes_key_value_prefix;
DROP INDEX attributes_key_subkey_value_prefix;
CREATE INDEX attributes_key_value ON attributes (key, value, entity_id);
CREATE INDEX attributes_key_subkey_value ON attributes (key, subkey, value, entity_id);
