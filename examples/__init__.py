"""Example projects of declarations (each folder is a project; its generator makes its data)."""
