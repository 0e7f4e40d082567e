"""Product recommendations (actions runtime).

`recommender.interactions` turns events into a weighted, time-decayed user x item matrix;
`recommender.models` holds the models behind one interface (fit, recommend, similar_items);
`recommender.evaluation` splits by time and computes ranking and beyond-accuracy metrics;
`recommender.benchmark` (`make bench-recommender`) compares them on UCI Online Retail.
"""
