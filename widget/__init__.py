"""The customer-facing web chat widget: static assets and the small server of its demo page."""
