# TODO: the service's network edge on AWS (README.md, "terraform/"): required_providers, typed variables,
# security groups for the app and the database, an aws_db_instance, and the outputs.
