"""Documents as a service of their own: what api and activities both use about agreement
templates and generated files."""
