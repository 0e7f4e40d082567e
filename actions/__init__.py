"""Custom actions, served by the rasa-sdk action server (Python 3.11 runtime).

Actions stay thin: read the conversation, call one service (catalog, store, recommender), format
the reply. One module per customer journey.
"""

from store.masking import mask_pii_in_logs

# rasa-sdk has configured logging before it imports the actions: mask personal data in all of it.
mask_pii_in_logs()
