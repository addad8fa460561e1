"""The data sources a stage compresses or stores: built-in generators and a user's files."""
