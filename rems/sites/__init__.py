"""Healthcare settings: pharmacies and infusion sites, their certification and staff."""
