"""HTTP routes of the home server, one module per area: info, client writes, reading, the live stream."""
