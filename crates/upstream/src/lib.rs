//! The local stand-in for google.com that `/sync-google` and `/async-google` call.
