"""The notes service this lab packages. It is the kit's: the grader builds your image with this very folder."""
