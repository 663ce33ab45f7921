"""The clinic and agency workspace: issuing pages, the register, bulk issuance, users."""
