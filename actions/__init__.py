"""Custom actions, served by the rasa-sdk action server (Python 3.11 runtime).

Actions stay thin: read the conversation, call one service (catalog, store, recommender), format
the reply. One module per customer journey.
"""

import threading

from tqdm import tqdm

from store.masking import mask_pii_in_logs

# rasa-sdk has configured logging before it imports the actions: mask personal data in all of it.
mask_pii_in_logs()

# tqdm (used by sentence-transformers and bm25s) creates a multiprocessing lock on first use, which
# fixes the process-wide start method; Sanic then refuses to start its server ("Start method 'spawn'
# was requested, but 'fork' was already set"). A thread lock is all our progress bars need.
tqdm.set_lock(threading.RLock())
