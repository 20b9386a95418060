"""Machine-facing services: log files, machine status, systemd notification."""
