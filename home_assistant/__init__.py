"""The check that runs real Home Assistant cores against the hub (`make test-ha`)."""
