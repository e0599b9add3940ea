//! Thread-per-connection HTTP/1.1 server on `std::net` and `httparse`: gunicorn sync workers modelled in Rust.
