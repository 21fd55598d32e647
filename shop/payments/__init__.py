"""Payment providers behind one small interface, payment status transitions, checkout."""
