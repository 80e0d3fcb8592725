"""What custseg knows about a table's columns: roles, parsing, encoding, scaling, profiles."""
