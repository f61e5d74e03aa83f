"""Entities of the image domain: Image, Member, Location, and the status machine."""
