"""User-facing errors: the CLI prints them as one line, without a traceback."""


class UserError(Exception):
    """Bad input or a bad request from the user. The message names the file and the problem."""


def fail(path, problem: str) -> "UserError":
    """Build a UserError of the form ``<path>: <problem>``."""
    return UserError(f"{path}: {problem}")
