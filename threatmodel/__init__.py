"""threatmodel: threat-model a repository the way a careful attacker would, with receipts."""

__version__ = "0.1.0"
