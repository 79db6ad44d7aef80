"""labkit: hands-on backend engineering labs, graded from the outside against real servers."""

__version__ = "0.1.0"
