//! A gunicorn-style master that forks async or sync workers and supervises them.
