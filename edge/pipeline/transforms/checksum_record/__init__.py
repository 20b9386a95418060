"""checksum_record transform: stores a checksum of each record in a field."""
