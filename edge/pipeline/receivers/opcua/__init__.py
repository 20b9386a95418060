"""OPC UA receiver: reads tags from an OPC UA server by polling or subscription (asyncua, imported lazily)."""
