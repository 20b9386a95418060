"""The web UI: its pages, static files and browser sessions."""
