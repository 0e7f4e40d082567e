"""Product recommendations (actions runtime): collaborative filtering, matrix factorisation,
content-based and hybrid models behind one interface. Not built yet; see the open issue."""
