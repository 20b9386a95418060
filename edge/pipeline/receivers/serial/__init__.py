"""Serial receiver: lines from devices on serial ports (scales, barcode readers, gauges) as records."""
