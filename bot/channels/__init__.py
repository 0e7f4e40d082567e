"""Our Rasa input channels: Rasa's own connectors, with the checks Rasa 3.6 leaves out (named in credentials.yml)."""
