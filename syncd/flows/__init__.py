"""Flows: the business logic of one direction each; pure (store in, commands out)."""
