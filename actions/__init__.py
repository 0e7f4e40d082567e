"""Custom actions, served by the rasa-sdk action server (Python 3.11 runtime).

Actions stay thin: read the conversation, call one service (catalog, store, recommender), format
the reply. One module per customer journey.
"""
