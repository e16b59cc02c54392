"""Platform adapters: each turns one chat platform's events into the core's types and back."""
