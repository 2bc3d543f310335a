"""The one error type services raise for a refused request.

Views show its message to the user; the API turns it into a 400 (or the given
status) in `config.api.exception_handler`. Nothing else needs to catch it.
"""


class ApplicationError(Exception):
    def __init__(self, message: str, *, field: str | None = None, status: int = 400, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status
        self.code = code
