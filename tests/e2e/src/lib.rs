//! End-to-end tests across the services.
