"""The one exception type for user error; the CLI turns it into one line and exit 2."""


class UsageError(ValueError):
    """Bad input from the user: the message names the problem and the valid range."""
