"""The names of the sketches (a module of its own so that the backend's declarations, read when
a backend is chosen, do not import the linear algebra)."""

SKETCHES = ("kaczmarz", "gaussian", "block", "direct")
