"""svc: a plain-file record keeper for customer-service centers."""

__version__ = "0.1.0"
