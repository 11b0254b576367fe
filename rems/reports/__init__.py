"""Reports for auditors and administrators: the catalogue, exports and the REMS assessment."""
