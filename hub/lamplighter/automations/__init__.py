"""Scenes (named sets of light states) and schedules (lights, rooms or scenes switched on time)."""
