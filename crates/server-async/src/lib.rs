//! tokio + hyper 1 server: current_thread by default, like Uvicorn; multi-thread with `--threads N`.
