-- Values are indexed by their first 200 characters: a whole value may be far
-- larger than an index entry can be. Queries filter on the same expression
-- (so that the index serves them) and on the whole value.
DROP INDEX attributes_key_value;
DROP INDEX attributes_key_subkey_value;
CREATE INDEX attributes_key_value_prefix ON attributes (key, substr(value, 1, 200), entity_id);
CREATE INDEX attributes_key_subkey_value_prefix ON attributes (key, subkey, substr(value, 1, 200), entity_id);
