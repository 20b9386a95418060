"""mqtt transmit: publishes records to a plant's MQTT broker (QoS 1)."""
