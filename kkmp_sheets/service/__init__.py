"""The running service: one cycle, the schedule, the lock, status, and the wiring of sources,
outputs, store and delivery."""
