"""Keys, signing, and the signed trust and revocation lists."""
