"""Real local endpoints for tests: a moto server, a throttling proxy in front of it, a webhook receiver."""
