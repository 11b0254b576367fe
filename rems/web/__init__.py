"""The web app's home: the landing redirect and each role's dashboard."""
