DROP TABLE infrastructure_vms;
DROP TABLE infrastructure_clouds;
DROP TABLE infrastructure_owners;
DROP TABLE infrastructures;
DROP TABLE im_owners;
