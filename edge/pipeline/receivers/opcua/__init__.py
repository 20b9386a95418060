"""OPC UA receiver: polls tag values from an OPC UA server."""
