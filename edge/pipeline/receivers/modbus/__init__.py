"""Modbus receiver: polls registers and coils of Modbus TCP and RTU devices."""
