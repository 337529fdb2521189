"""The one exception type for user mistakes; the CLI prints it as one line and exits with code 2."""
import click


class UserError(click.ClickException):
    """Bad input or options: the message names the thing and the fix."""

    exit_code = 2

    def format_message(self) -> str:
        return self.message
