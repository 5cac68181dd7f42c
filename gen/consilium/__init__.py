"""Generated protobuf code (see `make protos`)."""
