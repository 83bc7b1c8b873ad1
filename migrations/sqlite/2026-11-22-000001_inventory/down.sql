DROP TABLE allocations;
DROP TABLE pool_members;
DROP TABLE attributes;
DROP TABLE entities;
