"""The one error parsers raise: it names the file and says what is wrong with it."""


class ParseError(Exception):
    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
