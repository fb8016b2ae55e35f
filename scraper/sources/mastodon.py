"""mastodon source (being written)."""
