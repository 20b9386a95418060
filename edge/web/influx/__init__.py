"""InfluxDB 1.x writes: line protocol at /write and /ping, for Telegraf, Node-RED and the
influxdb clients (see README.d/influx.md)."""
