"""Schema extensions: error shaping and masking, limits, telemetry."""
