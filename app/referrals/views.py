"""Referral pages."""
