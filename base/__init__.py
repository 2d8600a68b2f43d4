"""The base every layer above the domain stands on: settings and the engine client."""
