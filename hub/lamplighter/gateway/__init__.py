"""The device gateway: device WebSockets, the HTTP poll and message routes, and the device message handlers."""
