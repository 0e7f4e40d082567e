"""Code that runs inside the Rasa server (Python 3.10 runtime): custom NLU components and channel connectors.

Nothing custom is needed yet: the pipeline in config.yml uses Rasa's own components, and the
channels in credentials.yml are Rasa's own connectors.
"""
