"""The regional administration's review: dashboard figures, cross-organisation search, a
permit's whole history, revocation one by one or in bulk, and Excel export."""
