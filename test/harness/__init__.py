"""Test harness shared by every pg_rotate test: a throwaway PostgreSQL cluster,
a moto_server, and small helpers. Importable with test/ on sys.path."""
