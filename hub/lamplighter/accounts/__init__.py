"""Users' personal API tokens and the login that goes with them."""
