"""Tests of the staff console (console/), in the actions runtime."""
