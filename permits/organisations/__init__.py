"""Issuing and overseeing organisations: clinics, village doctors, municipalities, ministry,
region."""
