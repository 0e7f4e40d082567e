"""Benchmarks that span the product rather than one package (`make bench-nlu` runs in the Rasa runtime)."""
