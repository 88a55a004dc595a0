DROP TABLE adapter_leases;
