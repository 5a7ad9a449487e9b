"""The small shop the home page and the gallery draw (imported by this site's build)."""
